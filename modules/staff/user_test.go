package staff

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"orderdesk/ports"
)

func TestNormalizeUsername(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"alice", "alice"},
		{"Alice", "alice"},
		{"  ALICE  ", "alice"},
		{"\tBob.Smith\n", "bob.smith"},
		{"ÉLODIE", "élodie"},
		{"al ice", "al ice"}, // only the ends are trimmed
	}
	for _, tt := range tests {
		if got := NormalizeUsername(tt.in); got != tt.want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"empty", "", true},
		{"two chars", "ab", true},
		{"three chars", "abc", false},
		{"32 chars", strings.Repeat("a", 32), false},
		{"33 chars", strings.Repeat("a", 33), true},
		{"digits only", "123", false},
		{"starts with digit", "1abc", false},
		{"uppercase not normalized", "Alice", true},
		{"uppercase after normalize", NormalizeUsername("  Alice "), false},
		{"leading dot", ".abc", true},
		{"leading underscore", "_abc", true},
		{"leading hyphen", "-abc", true},
		{"allowed punctuation", "a.b_c-d", false},
		{"trailing punctuation", "abc.", false},
		{"only punctuation after first", "a._-", false},
		{"at sign", "al@ce", true},
		{"plus", "al+ce", true},
		{"slash", "al/ce", true},
		{"unicode letter", "josé", true},
		{"cjk", "日本語", true},
		{"cyrillic lookalike a", "\u0430lice", true},
		{"inner space", "al ice", true},
		{"leading space", " alice", true},
		{"trailing space", "alice ", true},
		{"tab", "al\tice", true},
		{"33 unicode runes", strings.Repeat("é", 33), true},
		{"two unicode runes", "éé", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := ValidateUsername(tt.in)
			if (fe != nil) != tt.wantErr {
				t.Fatalf("ValidateUsername(%q) = %v, wantErr %v", tt.in, fe, tt.wantErr)
			}
			if fe != nil {
				if fe.Field != "username" {
					t.Errorf("field = %q, want username", fe.Field)
				}
				if fe.Message == "" {
					t.Error("empty message")
				}
			}
		})
	}
}

func TestValidateUsernameMessages(t *testing.T) {
	// The length messages must say which limit was hit.
	if fe := ValidateUsername("ab"); fe == nil || !strings.Contains(fe.Message, "at least 3") {
		t.Errorf("too short: %+v", fe)
	}
	if fe := ValidateUsername(strings.Repeat("a", 33)); fe == nil || !strings.Contains(fe.Message, "at most 32") {
		t.Errorf("too long: %+v", fe)
	}
}

func TestValidateDisplayName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"empty is fine", "", false},
		{"plain", "Alice Smith", false},
		{"accents", "Zoë Brontë", false},
		{"100 ascii", strings.Repeat("a", 100), false},
		{"101 ascii", strings.Repeat("a", 101), true},
		{"100 emoji", strings.Repeat("😀", 100), false},
		{"101 emoji", strings.Repeat("😀", 101), true},
		{"100 two-byte runes", strings.Repeat("é", 100), false},
		{"101 two-byte runes", strings.Repeat("é", 101), true},
		{"newline", "Alice\nSmith", true},
		{"tab", "Alice\tSmith", true},
		{"nul", "Alice\x00", true},
		{"escape", "\x1b[31mred", true},
		{"del", "Alice\x7f", true},
		{"c1 control", "Alice\u0085", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := ValidateDisplayName(tt.in)
			if (fe != nil) != tt.wantErr {
				t.Fatalf("ValidateDisplayName(%q) = %v, wantErr %v", tt.in, fe, tt.wantErr)
			}
			if fe != nil && fe.Field != "display_name" {
				t.Errorf("field = %q, want display_name", fe.Field)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		username string
		wantErr  bool
		wantMsg  string // part of the message, when wantErr
	}{
		{"empty", "", "alice", true, "Enter"},
		{"9 chars", "abcdefghi", "alice", true, "at least 10"},
		{"10 chars", "abcdefghij", "alice", false, ""},
		{"9 runes of 2 bytes", strings.Repeat("é", 9), "alice", true, "at least 10"},
		{"10 runes of 2 bytes", strings.Repeat("é", 10), "alice", false, ""},
		{"128 runes", strings.Repeat("é", 128), "alice", false, ""},
		{"129 runes", strings.Repeat("é", 129), "alice", true, "at most 128"},
		{"128 ascii", strings.Repeat("x", 128), "alice", false, ""},
		{"129 ascii", strings.Repeat("x", 129), "alice", true, "at most 128"},
		{"equal to username", "alicealice", "alicealice", true, "username"},
		{"equal to username other case", "AliceAlice", "alicealice", true, "username"},
		{"contains username is fine", "alicealice1", "alicealice", false, ""},
		{"only spaces", strings.Repeat(" ", 10), "alice", true, "spaces"},
		{"only whitespace", strings.Repeat(" \t", 6), "alice", true, "spaces"},
		{"spaces inside are fine", "correct horse battery", "alice", false, ""},
		{"no username", "abcdefghij", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := ValidatePassword("new_password", tt.password, tt.username)
			if (fe != nil) != tt.wantErr {
				t.Fatalf("ValidatePassword(%q, %q) = %v, wantErr %v", tt.password, tt.username, fe, tt.wantErr)
			}
			if fe == nil {
				return
			}
			if fe.Field != "new_password" {
				t.Errorf("field = %q, want the one passed in (new_password)", fe.Field)
			}
			if !strings.Contains(fe.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", fe.Message, tt.wantMsg)
			}
		})
	}
}

func TestRoleValid(t *testing.T) {
	for _, r := range []Role{RoleAdmin, RoleManager, RolePacker, RoleAccountant, RoleSupport,
		"admin", "manager", "packer", "accountant", "support"} {
		if !r.Valid() {
			t.Errorf("Role(%q).Valid() = false, want true", r)
		}
	}
	for _, r := range []Role{"", "Admin", "ADMIN", "admin ", " admin", "root", "owner", "*", "staff"} {
		if r.Valid() {
			t.Errorf("Role(%q).Valid() = true, want false", r)
		}
	}
	if len(Roles) != 5 {
		t.Errorf("len(Roles) = %d, want 5", len(Roles))
	}
}

func TestUserName(t *testing.T) {
	u := &User{Username: "alice"}
	if got := u.Name(); got != "alice" {
		t.Errorf("Name() = %q, want alice", got)
	}
	u.DisplayName = "Alice Smith"
	if got := u.Name(); got != "Alice Smith" {
		t.Errorf("Name() = %q, want Alice Smith", got)
	}
}

func TestCanChange(t *testing.T) {
	actor := uuid.MustParse("00000000-0000-0000-0000-00000000000a")
	other := uuid.MustParse("00000000-0000-0000-0000-00000000000b")
	user := func(id uuid.UUID, role Role, disabled bool) *User {
		return &User{ID: id, Username: "target", Role: role, Disabled: disabled}
	}
	del := Change{Kind: ChangeDelete}
	dis := Change{Kind: ChangeDisable}
	toRole := func(r Role) Change { return Change{Kind: ChangeRole, Role: r} }

	tests := []struct {
		name    string
		actor   uuid.UUID
		target  *User
		change  Change
		others  int
		wantErr bool
	}{
		// Deleting.
		{"delete another manager", actor, user(other, RoleManager, false), del, 0, false},
		{"delete self as manager", actor, user(actor, RoleManager, false), del, 1, true},
		{"delete self as admin with other admins", actor, user(actor, RoleAdmin, false), del, 3, true},
		{"delete last active admin", actor, user(other, RoleAdmin, false), del, 0, true},
		{"delete last active admin as system", uuid.Nil, user(other, RoleAdmin, false), del, 0, true},
		{"delete admin when another active admin exists", actor, user(other, RoleAdmin, false), del, 1, false},
		{"delete disabled admin with no active admin", actor, user(other, RoleAdmin, true), del, 0, false},
		{"delete disabled admin", actor, user(other, RoleAdmin, true), del, 1, false},
		{"delete non-admin when there are no admins", actor, user(other, RoleSupport, false), del, 0, false},

		// Disabling.
		{"disable another packer", actor, user(other, RolePacker, false), dis, 0, false},
		{"disable self as manager", actor, user(actor, RoleManager, false), dis, 1, true},
		{"disable self as admin with other admins", actor, user(actor, RoleAdmin, false), dis, 2, true},
		{"disable last active admin", actor, user(other, RoleAdmin, false), dis, 0, true},
		{"disable last active admin as system", uuid.Nil, user(other, RoleAdmin, false), dis, 0, true},
		{"disable self as last active admin", actor, user(actor, RoleAdmin, false), dis, 0, true},
		{"disable admin when another active admin exists", actor, user(other, RoleAdmin, false), dis, 1, false},
		{"disable already disabled admin", actor, user(other, RoleAdmin, true), dis, 0, false},

		// Changing the role.
		{"demote last active admin", actor, user(other, RoleAdmin, false), toRole(RoleManager), 0, true},
		{"demote self as last active admin", actor, user(actor, RoleAdmin, false), toRole(RoleSupport), 0, true},
		{"last active admin stays admin", actor, user(other, RoleAdmin, false), toRole(RoleAdmin), 0, false},
		{"demote admin when another active admin exists", actor, user(other, RoleAdmin, false), toRole(RoleManager), 1, false},
		{"demote self when another active admin exists", actor, user(actor, RoleAdmin, false), toRole(RolePacker), 1, false},
		{"demote disabled admin", actor, user(other, RoleAdmin, true), toRole(RoleManager), 0, false},
		{"promote manager to admin", actor, user(other, RoleManager, false), toRole(RoleAdmin), 0, false},
		{"change manager to packer", actor, user(other, RoleManager, false), toRole(RolePacker), 0, false},
		{"change own non-admin role", actor, user(actor, RoleSupport, false), toRole(RoleManager), 0, false},

		// Anything else.
		{"other change to last active admin", actor, user(other, RoleAdmin, false), Change{Kind: ChangeOther}, 0, false},
		{"other change to self", actor, user(actor, RoleAdmin, false), Change{Kind: ChangeOther}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CanChange(tt.actor, tt.target, tt.change, tt.others)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CanChange = %v, want nil", err)
				}
				return
			}
			if code := ports.ErrorCodeOf(err); code != ports.ECONFLICT {
				t.Fatalf("CanChange = %v (code %q), want code %q", err, code, ports.ECONFLICT)
			}
			if ports.ErrorMessageOf(err) == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestCanChangeMessages(t *testing.T) {
	actor := uuid.New()
	last := &User{ID: uuid.New(), Username: "root-admin", Role: RoleAdmin}
	for _, c := range []Change{{Kind: ChangeDelete}, {Kind: ChangeDisable}, {Kind: ChangeRole, Role: RoleManager}} {
		msg := ports.ErrorMessageOf(CanChange(actor, last, c, 0))
		if !strings.Contains(msg, "root-admin") || !strings.Contains(msg, "last active admin") {
			t.Errorf("change %+v: message %q should name the user and say they are the last active admin", c, msg)
		}
	}
	self := &User{ID: actor, Username: "me", Role: RoleManager}
	if msg := ports.ErrorMessageOf(CanChange(actor, self, Change{Kind: ChangeDelete}, 0)); !strings.Contains(msg, "own account") {
		t.Errorf("delete self: message %q", msg)
	}
	if msg := ports.ErrorMessageOf(CanChange(actor, self, Change{Kind: ChangeDisable}, 0)); !strings.Contains(msg, "own account") {
		t.Errorf("disable self: message %q", msg)
	}
}
