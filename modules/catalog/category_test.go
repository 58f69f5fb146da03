package catalog

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// catFields returns the field errors of err by field, failing the test when err is
// not an EINVALID error or names a field twice.
func catFields(t *testing.T, err error) map[string]string {
	t.Helper()
	if err == nil {
		return map[string]string{}
	}
	if code := ports.ErrorCodeOf(err); code != ports.EINVALID {
		t.Fatalf("error %v has code %q, want %q", err, code, ports.EINVALID)
	}
	out := map[string]string{}
	for _, fe := range ports.FieldErrorsOf(err) {
		if _, dup := out[fe.Field]; dup {
			t.Fatalf("field %q reported twice in %v", fe.Field, err)
		}
		out[fe.Field] = fe.Message
	}
	if len(out) == 0 {
		t.Fatalf("EINVALID error %v names no field", err)
	}
	return out
}

// catWantFields checks that err names exactly the given fields, each message
// containing the given text ("" accepts any message).
func catWantFields(t *testing.T, err error, want map[string]string) {
	t.Helper()
	got := catFields(t, err)
	if len(got) != len(want) {
		t.Fatalf("fields %v, want %v (error %v)", got, want, err)
	}
	for f, sub := range want {
		msg, ok := got[f]
		if !ok {
			t.Fatalf("no error on field %q; got %v", f, got)
		}
		if !strings.Contains(msg, sub) {
			t.Fatalf("field %q: message %q does not contain %q", f, msg, sub)
		}
	}
}

func TestSlugify(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"accents folded", "Crème brûlée", "creme-brulee"},
		{"plain words", "Hello World", "hello-world"},
		{"digits kept", "Size 42 Boots", "size-42-boots"},
		{"already a slug", "tea-and-coffee", "tea-and-coffee"},
		{"punctuation collapses", "Tea, Coffee & Cocoa!!!", "tea-coffee-cocoa"},
		{"emoji collapse", "Cakes 🎂🍰 and ☕ Coffee", "cakes-and-coffee"},
		{"emoji between letters", "a🎂b", "a-b"},
		{"leading and trailing separators", "  --¡Hola!--  ", "hola"},
		{"underscores and slashes", "a_b/c\\d", "a-b-c-d"},
		{"tabs and newlines", "a\t\nb", "a-b"},
		{"repeated separators", "a - - - b", "a-b"},
		{"upper case", "ÉCLAIRS AU CHOCOLAT", "eclairs-au-chocolat"},
		{"ligature decomposed", "ﬁne ﬂour", "fine-flour"},
		{"fullwidth letters", "ＡＢＣ１２３", "abc123"},
		{"combining marks", "Cafe\u0301 Zoe\u0308", "cafe-zoe"},
		{"only non-ASCII", "日本語", ""},
		{"only emoji", "🎂🍰", ""},
		{"only punctuation", "!!! ??? ---", ""},
		{"empty", "", ""},
		{"non-ASCII between words", "Tea 日本 Cups", "tea-cups"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Slugify(tc.in)
			if got != tc.want {
				t.Fatalf("Slugify(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got != "" && !ValidSlug(got) {
				t.Fatalf("Slugify(%q) = %q is not a valid slug", tc.in, got)
			}
		})
	}
}

func TestSlugifyCap(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"exactly 100", strings.Repeat("a", 100), strings.Repeat("a", 100)},
		{"101 letters cut to 100", strings.Repeat("a", 101), strings.Repeat("a", 100)},
		{"long text cut to 100", strings.Repeat("b", 500), strings.Repeat("b", 100)},
		// 99 letters then a word: the hyphen would be the 100th character, so it is
		// dropped rather than left at the end.
		{"no trailing hyphen at the cut", strings.Repeat("a", 99) + " bcd", strings.Repeat("a", 99)},
		{"hyphen at 99 keeps one letter", strings.Repeat("a", 98) + " bcd", strings.Repeat("a", 98) + "-b"},
		{"accents count after folding", strings.Repeat("é", 150), strings.Repeat("e", 100)},
		// "ab-" is 3 bytes a word: 100 bytes end after 33 words and one letter.
		{"words", strings.Repeat("ab ", 60), strings.Repeat("ab-", 33) + "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Slugify(tc.in)
			if got != tc.want {
				t.Fatalf("Slugify(%d bytes) = %q (%d), want %q (%d)", len(tc.in), got, len(got), tc.want, len(tc.want))
			}
			if len(got) > SlugMax || !ValidSlug(got) {
				t.Fatalf("Slugify gave %q (%d bytes), not a valid slug", got, len(got))
			}
		})
	}
}

func TestValidSlug(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"a", true},
		{"creme-brulee", true},
		{"size-42", true},
		{"42", true},
		{"a-b-c-1-2-3", true},
		{strings.Repeat("a", 100), true},
		{strings.Repeat("a", 101), false},
		{"", false},
		{"-a", false},
		{"a-", false},
		{"-", false},
		{"a--b", false},
		{"A", false},
		{"Creme", false},
		{"a b", false},
		{"a_b", false},
		{"a.b", false},
		{"a/b", false},
		{"crème", false},
		{"ａ", false},
		{"a\n", false},
		{"🎂", false},
	}
	for _, tc := range cases {
		if got := ValidSlug(tc.in); got != tc.want {
			t.Errorf("ValidSlug(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCategoryInputNormalize(t *testing.T) {
	cases := []struct {
		name               string
		in                 CategoryInput
		wantName, wantSlug string
	}{
		{"slug derived", CategoryInput{Name: "  Crème brûlée  "}, "Crème brûlée", "creme-brulee"},
		{"slug trimmed and lowered", CategoryInput{Name: "Cakes", Slug: "  My-Cakes "}, "Cakes", "my-cakes"},
		{"blank slug derived", CategoryInput{Name: "Tea & Coffee", Slug: "   "}, "Tea & Coffee", "tea-coffee"},
		{"given slug kept even if invalid", CategoryInput{Name: "x", Slug: "Not A Slug"}, "x", "not a slug"},
		{"no name no slug", CategoryInput{Name: "   "}, "", ""},
		{"non-ASCII name gives empty slug", CategoryInput{Name: "日本語"}, "日本語", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Normalize()
			if in.Name != tc.wantName || in.Slug != tc.wantSlug {
				t.Fatalf("Normalize gave name %q slug %q, want %q %q", in.Name, in.Slug, tc.wantName, tc.wantSlug)
			}
		})
	}
}

func TestCategoryInputValidate(t *testing.T) {
	name100 := strings.Repeat("é", 100) // 200 bytes, 100 characters
	cases := []struct {
		name string
		in   CategoryInput
		want map[string]string // field → part of the message; nil: valid
	}{
		{"valid", CategoryInput{Name: "Cakes", Slug: "cakes"}, nil},
		{"valid with position bounds", CategoryInput{Name: "Cakes", Slug: "cakes", Position: -100000}, nil},
		{"valid upper position", CategoryInput{Name: "Cakes", Slug: "cakes", Position: 100000}, nil},
		{"100 characters", CategoryInput{Name: name100, Slug: "e"}, nil},
		{"emoji name", CategoryInput{Name: "Cakes 🎂", Slug: "cakes"}, nil},
		{"empty name", CategoryInput{Name: "", Slug: "cakes"}, map[string]string{"name": "Enter a name"}},
		{"101 characters", CategoryInput{Name: name100 + "x", Slug: "e"}, map[string]string{"name": "at most 100"}},
		{"control character", CategoryInput{Name: "Cakes\x00", Slug: "cakes"}, map[string]string{"name": "control"}},
		{"newline", CategoryInput{Name: "Cakes\nand more", Slug: "cakes"}, map[string]string{"name": "control"}},
		{"bad slug", CategoryInput{Name: "Cakes", Slug: "Cakes!"}, map[string]string{"slug": "lower-case"}},
		{"empty slug", CategoryInput{Name: "Cakes", Slug: ""}, map[string]string{"slug": "lower-case"}},
		{"double hyphen", CategoryInput{Name: "Cakes", Slug: "a--b"}, map[string]string{"slug": "single hyphens"}},
		{"position too low", CategoryInput{Name: "Cakes", Slug: "cakes", Position: -100001}, map[string]string{"position": "between"}},
		{"position too high", CategoryInput{Name: "Cakes", Slug: "cakes", Position: 100001}, map[string]string{"position": "between"}},
		{"every problem at once", CategoryInput{Name: "", Slug: "-", Position: 1 << 20},
			map[string]string{"name": "", "slug": "", "position": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			catWantFields(t, err, tc.want)
		})
	}
}

// A name that slugifies to nothing is caught by Validate after Normalize.
func TestCategoryInputNormalizeThenValidate(t *testing.T) {
	in := CategoryInput{Name: "🎂🎂"}
	in.Normalize()
	catWantFields(t, in.Validate(), map[string]string{"slug": ""})

	in = CategoryInput{Name: "  Crème brûlée "}
	in.Normalize()
	if err := in.Validate(); err != nil {
		t.Fatalf("Validate after Normalize: %v", err)
	}
}

func TestCheckParent(t *testing.T) {
	id := uuid.New()
	top := &Category{ID: uuid.New()}
	grand := uuid.New()
	child := &Category{ID: uuid.New(), ParentID: &grand}
	cases := []struct {
		name     string
		id       uuid.UUID
		parent   *Category
		children int
		want     string // part of the parent_id message; "" for no error
	}{
		{"no parent", id, nil, 0, ""},
		{"no parent with children", id, nil, 3, ""},
		{"top-level parent", id, top, 0, ""},
		{"new category under top-level", uuid.Nil, top, 0, ""},
		{"self parent", id, &Category{ID: id}, 0, "own parent"},
		{"self parent with children", id, &Category{ID: id}, 2, "own parent"},
		{"parent that has a parent", id, child, 0, "top-level"},
		{"new category under a child", uuid.Nil, child, 0, "top-level"},
		{"category with children cannot get a parent", id, top, 1, "sub-categories"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckParent(tc.id, tc.parent, tc.children)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckParent: %v", err)
				}
				return
			}
			catWantFields(t, err, map[string]string{"parent_id": tc.want})
		})
	}
}
