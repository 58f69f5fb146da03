// Package sealer encrypts personal data at rest with AES-256-GCM. Each sealed value
// starts with the id of its key, so keys rotate: the first key of the ring seals, all
// of them open.
package sealer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"orderdesk/ports"
)

// Key is one AES-256 key and its id.
type Key struct {
	ID  string
	Key []byte
}

// Ring seals with its first key and opens with any of its keys.
type Ring struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ ports.Sealer = (*Ring)(nil)

const version = 1

// New returns a ring of keys; the first seals.
func New(keys ...Key) (*Ring, error) {
	if len(keys) == 0 {
		return nil, errors.New("sealer: no key")
	}
	r := &Ring{current: keys[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if k.ID == "" || len(k.ID) > 32 || strings.ContainsAny(k.ID, ":, ") {
			return nil, fmt.Errorf("sealer: key id %q must be 1 to 32 characters without ':', ',' or spaces", k.ID)
		}
		if len(k.Key) != 32 {
			return nil, fmt.Errorf("sealer: key %s must be 32 bytes (base64 of 32 random bytes)", k.ID)
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		r.aeads[k.ID] = aead
	}
	return r, nil
}

// ParseKeys reads "id:base64key,id2:base64key2" (the first is current).
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for _, part := range strings.Split(s, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("each key is id:base64")
		}
		k, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("key %s is not base64", id)
		}
		if len(k) != 32 {
			return nil, fmt.Errorf("key %s must be 32 bytes", id)
		}
		keys = append(keys, Key{ID: id, Key: k})
	}
	return keys, nil
}

// NewKey makes a random key.
func NewKey(id string) Key {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return Key{ID: id, Key: k}
}

// Seal encrypts plain with the current key: version, key id length, key id, nonce,
// ciphertext with tag.
func (r *Ring) Seal(plain []byte) ([]byte, error) {
	aead := r.aeads[r.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	head := append([]byte{version, byte(len(r.current))}, r.current...)
	out := append(head, nonce...)
	// The header is authenticated as additional data, so a value cannot be moved to
	// another key id.
	return aead.Seal(out, nonce, plain, head), nil
}

// Open decrypts a sealed value.
func (r *Ring) Open(sealed []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != version {
		return nil, errors.New("sealer: not a sealed value")
	}
	n := int(sealed[1])
	if len(sealed) < 2+n {
		return nil, errors.New("sealer: truncated")
	}
	id := string(sealed[2 : 2+n])
	aead, ok := r.aeads[id]
	if !ok {
		return nil, fmt.Errorf("sealer: unknown key %q", id)
	}
	head := sealed[:2+n]
	rest := sealed[2+n:]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("sealer: truncated")
	}
	return aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], head)
}
