// Package staff is the module for the shop's staff: users, their roles and what each
// role may do, passwords, sessions and login throttling.
package staff

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"orderdesk/ports"
)

// Role is what a staff user is allowed to do; the policy in policy.go says exactly what.
type Role string

// The roles.
const (
	RoleAdmin      Role = "admin"
	RoleManager    Role = "manager"
	RolePacker     Role = "packer"
	RoleAccountant Role = "accountant"
	RoleSupport    Role = "support"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleManager, RolePacker, RoleAccountant, RoleSupport}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Limits of the fields a user is made of.
const (
	UsernameMinLen    = 3
	UsernameMaxLen    = 32
	DisplayNameMaxLen = 100
	PasswordMinLen    = 10
	PasswordMaxLen    = 128
)

// User is a member of staff.
type User struct {
	ID                 uuid.UUID  `db:"id"`
	Username           string     `db:"username"`
	DisplayName        string     `db:"display_name"`
	Role               Role       `db:"role"`
	PasswordHash       string     `db:"password_hash"`
	MustChangePassword bool       `db:"must_change_password"`
	Disabled           bool       `db:"disabled"`
	CreatedAt          time.Time  `db:"created_at"`
	UpdatedAt          time.Time  `db:"updated_at"`
	PasswordChangedAt  time.Time  `db:"password_changed_at"`
	LastLoginAt        *time.Time `db:"last_login_at"`
}

// Name is what the admin shows for u: the display name, or the username.
func (u *User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// NormalizeUsername trims and lower-cases a username as typed, so that "Alice " and
// "alice" are the same user.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateUsername checks a normalized username: 3 to 32 characters out of a-z, 0-9,
// '.', '_' and '-', starting with a letter or digit.
func ValidateUsername(s string) *ports.FieldError {
	switch {
	case s == "":
		return &ports.FieldError{Field: "username", Message: "Enter a username."}
	case utf8.RuneCountInString(s) > UsernameMaxLen:
		return &ports.FieldError{Field: "username", Message: "A username has at most 32 characters."}
	case utf8.RuneCountInString(s) < UsernameMinLen:
		return &ports.FieldError{Field: "username", Message: "A username has at least 3 characters."}
	}
	for i, r := range s {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || (i > 0 && (r == '.' || r == '_' || r == '-'))
		if !ok {
			return &ports.FieldError{Field: "username", Message: "Use only letters a-z, digits and . _ - (starting with a letter or digit)."}
		}
	}
	return nil
}

// ValidateDisplayName checks the optional display name.
func ValidateDisplayName(s string) *ports.FieldError {
	if utf8.RuneCountInString(s) > DisplayNameMaxLen {
		return &ports.FieldError{Field: "display_name", Message: "A display name has at most 100 characters."}
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return &ports.FieldError{Field: "display_name", Message: "A display name cannot contain control characters."}
		}
	}
	return nil
}

// ValidatePassword checks a new password against the policy: 10 to 128 characters,
// not the username, not "admin" or another well-known default.
func ValidatePassword(field, password, username string) *ports.FieldError {
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		return &ports.FieldError{Field: field, Message: "Enter a password."}
	case n < PasswordMinLen:
		return &ports.FieldError{Field: field, Message: "A password has at least 10 characters."}
	case n > PasswordMaxLen:
		return &ports.FieldError{Field: field, Message: "A password has at most 128 characters."}
	case strings.EqualFold(password, username):
		return &ports.FieldError{Field: field, Message: "The password cannot be the username."}
	}
	if strings.TrimSpace(password) == "" {
		return &ports.FieldError{Field: field, Message: "A password cannot be only spaces."}
	}
	return nil
}

// CanChange checks whether actor may change target in the way described: the last
// active admin can be neither disabled, demoted nor deleted, and nobody deletes
// themselves. otherActiveAdmins counts active admins other than target.
func CanChange(actorID uuid.UUID, target *User, change Change, otherActiveAdmins int) error {
	lastAdmin := target.Role == RoleAdmin && !target.Disabled && otherActiveAdmins == 0
	switch change.Kind {
	case ChangeDelete:
		if target.ID == actorID {
			return ports.Errorf(ports.ECONFLICT, "You cannot delete your own account.")
		}
		if lastAdmin {
			return ports.Errorf(ports.ECONFLICT, "%s is the last active admin and cannot be deleted.", target.Username)
		}
	case ChangeDisable:
		if lastAdmin {
			return ports.Errorf(ports.ECONFLICT, "%s is the last active admin and cannot be disabled.", target.Username)
		}
		if target.ID == actorID {
			return ports.Errorf(ports.ECONFLICT, "You cannot disable your own account.")
		}
	case ChangeRole:
		if lastAdmin && change.Role != RoleAdmin {
			return ports.Errorf(ports.ECONFLICT, "%s is the last active admin and must stay an admin.", target.Username)
		}
	}
	return nil
}

// ChangeKind names the changes to a user that CanChange rules on.
type ChangeKind int

// The kinds of change.
const (
	ChangeOther ChangeKind = iota
	ChangeRole
	ChangeDisable
	ChangeDelete
)

// Change is a proposed change to a user.
type Change struct {
	Kind ChangeKind
	Role Role // the new role, for ChangeRole
}
