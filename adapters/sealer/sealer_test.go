package sealer

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestSealOpenAndRotate(t *testing.T) {
	k1, k2 := NewKey("k1"), NewKey("k2")
	old, err := New(k1)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"name":"Zoë Ⅷ","postcode":"SW1A 1AA"}`)
	sealed, err := old.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("SW1A")) {
		t.Fatal("sealed value contains the plaintext")
	}
	again, _ := old.Seal(plain)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of the same value are equal (nonce reused)")
	}
	rotated, err := New(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rotated.Open(sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open with rotated ring: %q %v", got, err)
	}
	fresh, _ := rotated.Seal(plain)
	if _, err := old.Open(fresh); err == nil {
		t.Fatal("the old ring opened a value sealed with a key it lacks")
	}
	// Tampering is detected: a flipped bit, a changed key id, truncation.
	for i := range []int{0, 1, 2} {
		bad := append([]byte(nil), sealed...)
		switch i {
		case 0:
			bad[len(bad)-1] ^= 1
		case 1:
			bad[2] = 'x'
		case 2:
			bad = bad[:10]
		}
		if _, err := rotated.Open(bad); err == nil {
			t.Fatalf("tampered value %d opened", i)
		}
	}
	if _, err := rotated.Open(nil); err == nil {
		t.Fatal("empty value opened")
	}
}

func TestParseKeys(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	keys, err := ParseKeys("new:" + k + ", old:" + k)
	if err != nil || len(keys) != 2 || keys[0].ID != "new" || keys[1].ID != "old" {
		t.Fatalf("%v %v", keys, err)
	}
	for _, bad := range []string{"", "nokey", "a:!!!", "a:" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
	if _, err := New(Key{ID: "bad id", Key: make([]byte, 32)}); err == nil {
		t.Error("key id with a space accepted")
	}
}
