package batchmsg

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
)

// MetaMAC carries a batch's message authentication code: proof that
// Custody's HTTP ingest, which validated every event in it, published it.
const MetaMAC = "custody-mac"

// SignerPurpose is the purpose the signing key is derived for from the
// identifier key (identity.Hasher.DeriveKey), by every process that
// publishes or consumes batches.
const SignerPurpose = "broker batch mac v1"

// MinSignerKeyLen is the shortest key a Signer takes.
const MinSignerKeyLen = 32

// Signer signs the batches a validating tier publishes and verifies them
// where they are consumed, with HMAC-SHA256 under a key only Custody's
// processes hold (identity.Hasher.DeriveKey). The code covers the format,
// the event count, the source and the payload, so no part of a signed
// batch can be changed or swapped into another.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer keyed by key (at least MinSignerKeyLen bytes).
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinSignerKeyLen {
		return nil, fmt.Errorf("batchmsg: signing key is %d bytes; it must be at least %d", len(key), MinSignerKeyLen)
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Sign sets msg's MetaMAC.
func (s *Signer) Sign(msg *message.Message) {
	msg.Metadata.Set(MetaMAC, hex.EncodeToString(s.mac(msg)))
}

// Verify reports whether msg carries a valid MetaMAC under this key.
func (s *Signer) Verify(msg *message.Message) bool {
	got, err := hex.DecodeString(msg.Metadata.Get(MetaMAC))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, s.mac(msg))
}

func (s *Signer) mac(msg *message.Message) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, part := range []string{"custody-batch-mac/v1", msg.Metadata.Get(MetaFormat), msg.Metadata.Get(MetaCount), msg.Metadata.Get(MetaSource)} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	m.Write(msg.Payload)
	return m.Sum(nil)
}
