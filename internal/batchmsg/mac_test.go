package batchmsg

import (
	"bytes"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

func signedBatch(t *testing.T, s *Signer) *message.Message {
	t.Helper()
	m := message.NewMessage("m1", []byte("payload of a batch"))
	m.Metadata.Set(MetaFormat, FormatV2)
	m.Metadata.Set(MetaCount, "3")
	m.Metadata.Set(MetaSource, "http")
	s.Sign(m)
	return m
}

func TestSigner_VerifiesItsOwnBatchesAndNothingElse(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSigner(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Verify(signedBatch(t, s)) {
		t.Fatal("a batch it signed does not verify")
	}
	for _, tc := range []struct {
		name   string
		change func(m *message.Message)
	}{
		{"no signature", func(m *message.Message) { m.Metadata.Set(MetaMAC, "") }},
		{"signature not hex", func(m *message.Message) { m.Metadata.Set(MetaMAC, "zz") }},
		{"signature cut short", func(m *message.Message) { m.Metadata.Set(MetaMAC, m.Metadata.Get(MetaMAC)[:20]) }},
		{"payload changed", func(m *message.Message) { m.Payload[0] ^= 1 }},
		{"payload extended", func(m *message.Message) { m.Payload = append(m.Payload, '!') }},
		{"format changed", func(m *message.Message) { m.Metadata.Set(MetaFormat, FormatV1) }},
		{"count changed", func(m *message.Message) { m.Metadata.Set(MetaCount, "4") }},
		{"source changed", func(m *message.Message) { m.Metadata.Set(MetaSource, "sdk/x") }},
		{"signed under another key", func(m *message.Message) { other.Sign(m) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := signedBatch(t, s)
			tc.change(m)
			if s.Verify(m) {
				t.Fatal("verified")
			}
		})
	}
	if _, err := NewSigner(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte key was taken")
	}
}
