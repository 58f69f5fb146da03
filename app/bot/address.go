package bot

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"orderdesk/modules/ordering"
)

// The checkout's steps besides the address fields.
const (
	stepMethod  = "method"
	stepConfirm = "confirm"
)

// step is one question of the address, named after the API's field.
type step struct {
	field    string
	label    string // what it is, in words
	prompt   string
	optional bool
	max      int
	// check normalizes a valid answer, or says what is wrong with it.
	check func(string) (string, string)
}

// steps are the address questions, in order, with OrderDesk's limits.
var steps = []step{
	{field: "name", label: "recipient's name", max: ordering.AddressNameMax,
		prompt: "📮 <b>Step 1 of 6:</b> who is the parcel for? Send the recipient's full name."},
	{field: "line1", label: "first address line", max: ordering.AddressLineMax,
		prompt: "📮 <b>Step 2 of 6:</b> the first line of the address (house number and street)."},
	{field: "line2", label: "second address line", max: ordering.AddressLineMax, optional: true,
		prompt: "📮 <b>Step 3 of 6:</b> a second address line (flat, building), or tap Skip."},
	{field: "city", label: "town or city", max: ordering.AddressCityMax,
		prompt: "📮 <b>Step 4 of 6:</b> the town or city."},
	{field: "postcode", label: "postcode", max: ordering.AddressPostcodeMax, check: checkPostcode,
		prompt: "📮 <b>Step 5 of 6:</b> the postcode, like SW1A 1AA."},
	{field: "phone", label: "phone number", max: ordering.AddressPhoneMax, optional: true, check: checkPhone,
		prompt: "📮 <b>Step 6 of 6:</b> a phone number for the courier, or tap Skip."},
}

// stepIndex is the index of an address step in steps, or -1.
func stepIndex(field string) int {
	return slices.IndexFunc(steps, func(s step) bool { return s.field == field })
}

// validate checks a typed answer: one line, not empty, not too long, and whatever the
// step checks besides. It returns the value to keep or the problem in words.
func (st step) validate(text string) (string, string) {
	if strings.ContainsAny(strings.TrimSpace(text), "\r\n") {
		return "", "Please send one line at a time: just the " + st.label + "."
	}
	v := strings.Join(strings.Fields(text), " ")
	switch {
	case v == "" && st.optional:
		return "", "That is empty: send the " + st.label + ", or tap Skip."
	case v == "":
		return "", "That is empty: please send the " + st.label + "."
	case utf8.RuneCountInString(v) > st.max:
		return "", fmt.Sprintf("That is too long: the %s has at most %d characters.", st.label, st.max)
	case strings.ContainsFunc(v, unicode.IsControl):
		return "", "That has characters I cannot use: please type the " + st.label + " again."
	}
	if st.check != nil {
		return st.check(v)
	}
	return v, ""
}

// checkPostcode upper-cases and spaces a UK postcode ("sw1a1aa" → "SW1A 1AA") and
// checks it by OrderDesk's own address rules, so the bot accepts what the shop does.
func checkPostcode(v string) (string, string) {
	a := ordering.Address{Postcode: ordering.NormalizePostcode(v)}
	for _, e := range a.Validate("") {
		if e.Field == "postcode" {
			return "", "“" + v + "” is not a UK postcode. A postcode looks like SW1A 1AA or M1 1AE (we ship within the UK only). Please send it again."
		}
	}
	return a.Postcode, ""
}

// checkPhone accepts digits (at least 7), spaces, +, -, ( and ).
func checkPhone(v string) (string, string) {
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-() ", r):
		default:
			return "", "A phone number has digits, spaces, + - ( and ) only, like +44 20 7946 0000. Please send it again, or tap Skip."
		}
	}
	if digits < 7 {
		return "", "That phone number is too short: it needs at least 7 digits. Please send it again, or tap Skip."
	}
	return v, ""
}

// get returns an address field by its API name.
func (a *Address) get(field string) string {
	switch field {
	case "name":
		return a.Name
	case "line1":
		return a.Line1
	case "line2":
		return a.Line2
	case "city":
		return a.City
	case "postcode":
		return a.Postcode
	case "phone":
		return a.Phone
	}
	return ""
}

// set sets an address field by its API name.
func (a *Address) set(field, v string) {
	switch field {
	case "name":
		a.Name = v
	case "line1":
		a.Line1 = v
	case "line2":
		a.Line2 = v
	case "city":
		a.City = v
	case "postcode":
		a.Postcode = v
	case "phone":
		a.Phone = v
	}
}

// nextStep is the first address step not answered yet, or "" when all are.
func (co *Checkout) nextStep() string {
	for _, st := range steps {
		if !slices.Contains(co.Done, st.field) {
			return st.field
		}
	}
	return ""
}

// answer records a step's answer.
func (co *Checkout) answer(field, v string) {
	co.Address.set(field, v)
	if !slices.Contains(co.Done, field) {
		co.Done = append(co.Done, field)
	}
	co.Step, co.Key = "", ""
}

// reopen asks a step again, its answer forgotten (OrderDesk refused it).
func (co *Checkout) reopen(field string) {
	co.Address.set(field, "")
	co.Done = slices.DeleteFunc(co.Done, func(f string) bool { return f == field })
	co.Step, co.Key = "", ""
}
