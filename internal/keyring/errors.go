package keyring

import "errors"

// Sentinel errors. Errors returned by this package wrap them; test with
// errors.Is.
var (
	// ErrKeyNotFound: the store holds no key with that id for the subject.
	ErrKeyNotFound = errors.New("keyring: data key not found")
	// ErrKeyDestroyed: the key was crypto-shredded; the data is gone for good.
	ErrKeyDestroyed = errors.New("keyring: data key destroyed (crypto-shredded)")
	// ErrUnknownMasterKey: the key is wrapped under a master key that is not
	// configured (neither active nor previous).
	ErrUnknownMasterKey = errors.New("keyring: data key is wrapped under an unknown master key")
	// ErrDecrypt: authentication failed — tampered or truncated ciphertext or
	// wrapped key, wrong AAD, or a value moved to another subject.
	ErrDecrypt = errors.New("keyring: decryption failed (tampered data or wrong AAD)")
	// ErrInsecureFile: a secret file is accessible by group or others.
	ErrInsecureFile = errors.New("keyring: secret file is accessible by group or others")
)
