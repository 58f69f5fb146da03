package staff

import (
	"fmt"
	"strings"
	"testing"
)

// cheapParams keep the tests fast; real hashes use DefaultPasswordParams.
var cheapParams = PasswordParams{Time: 1, Memory: 1024, Threads: 1}

func mustHash(t testing.TB, password string, p PasswordParams) string {
	t.Helper()
	h, err := HashPassword(password, p)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	return h
}

func TestHashPasswordRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		password string
		params   PasswordParams
	}{
		{"ascii", "correct horse battery staple", cheapParams},
		{"unicode", "pässwörd-日本語-😀", cheapParams},
		{"empty", "", cheapParams},
		{"long", strings.Repeat("x", 1024), cheapParams},
		{"nul bytes", "a\x00b\x00c", cheapParams},
		{"other params", "correct horse battery staple", PasswordParams{Time: 2, Memory: 2048, Threads: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHash(t, tt.password, tt.params)
			prefix := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", tt.params.Memory, tt.params.Time, tt.params.Threads)
			if !strings.HasPrefix(h, prefix) {
				t.Errorf("hash %q does not start with %q", h, prefix)
			}
			if strings.Contains(h, tt.password) && tt.password != "" {
				t.Errorf("hash %q contains the password", h)
			}
			if !CheckPassword(h, tt.password) {
				t.Errorf("CheckPassword(hash, right password) = false")
			}
			for _, wrong := range []string{tt.password + "x", strings.ToUpper(tt.password) + "!", "", " " + tt.password} {
				if wrong == tt.password {
					continue
				}
				if CheckPassword(h, wrong) {
					t.Errorf("CheckPassword(hash, %q) = true for a wrong password", wrong)
				}
			}
		})
	}
}

func TestCheckPasswordUnicodeNotNormalized(t *testing.T) {
	// "é" precomposed and decomposed are different byte strings; the check compares
	// bytes, so they must not match each other.
	h := mustHash(t, "caf\u00e9-password", cheapParams)
	if !CheckPassword(h, "caf\u00e9-password") {
		t.Fatal("precomposed password does not match itself")
	}
	if CheckPassword(h, "cafe\u0301-password") {
		t.Error("decomposed form matched the precomposed hash")
	}
}

func TestHashPasswordSalted(t *testing.T) {
	a := mustHash(t, "same password", cheapParams)
	b := mustHash(t, "same password", cheapParams)
	if a == b {
		t.Fatalf("two hashes of the same password are equal: %q", a)
	}
	saltA, saltB := strings.Split(a, "$")[4], strings.Split(b, "$")[4]
	if saltA == saltB {
		t.Errorf("salts are equal: %q", saltA)
	}
	if !CheckPassword(a, "same password") || !CheckPassword(b, "same password") {
		t.Error("a salted hash does not verify")
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good := mustHash(t, "the password", cheapParams)
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"dollar only", "$"},
		{"plain text", "the password"},
		{"wrong prefix argon2i", with(1, "argon2i")},
		{"wrong prefix bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"uppercase algorithm", with(1, "ARGON2ID")},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
		{"wrong version", with(2, "v=16")},
		{"version not a number", with(2, "v=x")},
		{"missing version", with(2, "")},
		{"params garbage", with(3, "garbage")},
		{"params missing p", with(3, "m=1024,t=1")},
		{"threads overflow", with(3, "m=1024,t=1,p=256")},
		{"memory negative", with(3, "m=-1,t=1,p=1")},
		{"zero time", with(3, "m=1024,t=0,p=1")},
		{"zero threads", with(3, "m=1024,t=1,p=0")},
		{"zero memory", with(3, "m=0,t=1,p=1")},
		{"other params than hashed", with(3, "m=2048,t=1,p=1")},
		{"bad base64 salt", with(4, "!!!not base64!!!")},
		{"padded base64 salt", with(4, parts[4]+"==")},
		{"bad base64 key", with(5, "@@@")},
		{"empty key", with(5, "")},
		{"empty salt", with(4, "")},
		{"truncated key", with(5, parts[5][:len(parts[5])-4])},
		{"key of other password", with(5, strings.Split(mustHash(t, "other", cheapParams), "$")[5])},
		{"too few parts", strings.Join(parts[:5], "$")},
		{"too many parts", good + "$extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("CheckPassword(%q) panicked: %v", tt.encoded, r)
				}
			}()
			if CheckPassword(tt.encoded, "the password") {
				t.Errorf("CheckPassword(%q, right password) = true, want false", tt.encoded)
			}
			if CheckPassword(tt.encoded, "") {
				t.Errorf("CheckPassword(%q, \"\") = true, want false", tt.encoded)
			}
		})
	}
	if !CheckPassword(good, "the password") {
		t.Fatal("the unmodified hash does not verify")
	}
}

// FuzzCheckPassword checks that no encoded hash, however malformed, makes CheckPassword
// panic.
func FuzzCheckPassword(f *testing.F) {
	good, err := HashPassword("the password", cheapParams)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		good,
		"",
		"$",
		"$$$$$",
		"$argon2id$v=19$m=1024,t=1,p=1$$",
		"$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2g",
		"$argon2id$v=19$m=1024,t=1,p=0$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2g",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=256$c2FsdA$aGFzaA",
		"$argon2id$v=99$m=1024,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=1$!!$??",
	} {
		f.Add(s, "the password")
	}
	f.Fuzz(func(t *testing.T, encoded, password string) {
		if tooCostly(encoded) {
			return // a valid but expensive cost would only make the fuzzer slow
		}
		CheckPassword(encoded, password)
	})
}

// tooCostly reports whether encoded asks for more argon2 work than a fuzz iteration
// should do. It parses more leniently (into wider integers) than CheckPassword, so
// every cost CheckPassword would accept is seen here.
func tooCostly(encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return false
	}
	var m, tm, p uint64
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &tm, &p); err != nil {
		return false
	}
	return m > 64*1024 || tm > 4 || p > 16 || len(parts[5]) > 4096
}
