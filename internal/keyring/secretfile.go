package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// SecretSize is the size in bytes of every secret this package reads or
// writes: master keys and other 32-byte secrets such as the identifier-hashing
// key.
const SecretSize = 32

// maxSecretFileSize bounds how much of a secret file is read.
const maxSecretFileSize = 4 << 10

// GenerateSecret returns SecretSize random bytes from crypto/rand.
func GenerateSecret() ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("keyring: generate secret: %w", err)
	}
	return b, nil
}

// EncodeSecret returns the canonical text form of a secret: standard padded
// base64.
func EncodeSecret(secret []byte) string {
	return base64.StdEncoding.EncodeToString(secret)
}

// ParseSecret decodes base64 text (standard or URL-safe alphabet, padded or
// not, surrounding whitespace ignored) of exactly SecretSize bytes. Errors never
// include the text.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("keyring: secret is empty; want base64 of exactly 32 bytes")
	}
	encs := []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding}
	if strings.ContainsAny(s, "-_") {
		encs = []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding}
	}
	var b []byte
	var err error
	for _, enc := range encs {
		if b, err = enc.DecodeString(s); err == nil {
			break
		}
		clear(b)
	}
	if err != nil {
		return nil, errors.New("keyring: secret is not valid base64 (standard or URL-safe alphabet); want base64 of exactly 32 bytes")
	}
	if len(b) != SecretSize {
		n := len(b)
		clear(b)
		return nil, fmt.Errorf("keyring: secret decodes to %d bytes; want base64 of exactly %d bytes (e.g. `openssl rand -base64 32`)", n, SecretSize)
	}
	return b, nil
}

// ReadSecretFile reads a secret file written by WriteSecretFile (or by hand:
// base64 of 32 bytes). It refuses a file accessible by group or others
// (ErrInsecureFile, with the chmod to run). A missing file gives an error
// wrapping fs.ErrNotExist.
func ReadSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: read secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: read secret file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: secret file %s is not a regular file", path)
	}
	if err := checkSecretPerm(path, fi.Mode()); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	defer clear(data)
	if err != nil {
		return nil, fmt.Errorf("keyring: read secret file: %w", err)
	}
	if len(data) > maxSecretFileSize {
		return nil, fmt.Errorf("keyring: secret file %s is larger than %d bytes", path, maxSecretFileSize)
	}
	secret, err := ParseSecret(string(data))
	if err != nil {
		return nil, fmt.Errorf("keyring: secret file %s: %w", path, err)
	}
	return secret, nil
}

func checkSecretPerm(path string, mode fs.FileMode) error {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		return nil // no POSIX permission bits
	}
	if perm := mode.Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %#o; fix with: chmod 600 %s", ErrInsecureFile, path, perm, path)
	}
	return nil
}

// WriteSecretFile creates path holding the secret as base64 text, with mode
// 0600, creating missing parent directories with mode 0700. It is atomic and
// never replaces an existing file: the content is written and synced to a
// temporary file in the same directory, then hard-linked into place (falling
// back to rename where hard links are unsupported). If path already exists it
// returns an error wrapping fs.ErrExist.
func WriteSecretFile(path string, secret []byte) (err error) {
	if len(secret) != SecretSize {
		return fmt.Errorf("keyring: secret must be %d bytes, got %d", SecretSize, len(secret))
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keyring: create secret directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("keyring: write secret file: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName) // after a successful link the secret lives on under path
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("keyring: write secret file: %w", err)
	}
	text := make([]byte, base64.StdEncoding.EncodedLen(len(secret))+1)
	defer clear(text)
	base64.StdEncoding.Encode(text, secret)
	text[len(text)-1] = '\n'
	if _, err := tmp.Write(text); err != nil {
		return fmt.Errorf("keyring: write secret file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("keyring: write secret file: %w", err)
	}
	err = tmp.Close()
	tmp = nil
	if err != nil {
		return fmt.Errorf("keyring: write secret file: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("keyring: secret file %s: %w", path, fs.ErrExist)
		}
		// No hard links on this filesystem: rename, which can replace a file
		// created concurrently in the window since the check below.
		if _, statErr := os.Lstat(path); statErr == nil {
			return fmt.Errorf("keyring: secret file %s: %w", path, fs.ErrExist)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("keyring: write secret file: %w", err)
		}
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry durable; best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// LoadOrCreateSecret reads the secret file at path. If it does not exist and
// create is true it generates a random secret and writes it (WriteSecretFile),
// returning created=true. Concurrent creators converge: whoever loses the
// creation race reads the winner's file. Shared by the master key file and any
// other 32-byte secret (e.g. the identifier-hashing key).
func LoadOrCreateSecret(path string, create bool) (secret []byte, created bool, err error) {
	secret, err = ReadSecretFile(path)
	if err == nil {
		return secret, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if !create {
		return nil, false, fmt.Errorf("keyring: secret file %s does not exist (enable creation to generate one): %w", path, fs.ErrNotExist)
	}
	secret, err = GenerateSecret()
	if err != nil {
		return nil, false, err
	}
	err = WriteSecretFile(path, secret)
	if errors.Is(err, fs.ErrExist) {
		clear(secret)
		secret, err = ReadSecretFile(path)
		if err != nil {
			return nil, false, err
		}
		return secret, false, nil
	}
	if err != nil {
		clear(secret)
		return nil, false, err
	}
	return secret, true, nil
}
