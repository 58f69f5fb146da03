package ports

// Sealer encrypts personal data at rest (customers' addresses) and decrypts it for the
// roles and adapters that need it. Sealed values carry the id of their key, so keys
// can be rotated: new values use the current key, old ones still open.
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}
