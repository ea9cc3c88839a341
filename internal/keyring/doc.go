// Package keyring encrypts specific values of personal data at rest with
// per-subject data keys (envelope encryption) and crypto-shreds them on
// erasure.
//
// # Model
//
// Each (tenant, subject) has one or more data encryption keys (DEKs): 32
// random bytes used with AES-256-GCM. A DEK is never stored in the clear: it is
// wrapped (AES-256-GCM, random 96-bit nonce) under a master key that comes from
// configuration, with the tenant, subject key and key id bound as additional
// authenticated data, and the wrapped form is persisted through a Store
// (ClickHouse in production). Every Sealed value records the KeyID it was
// encrypted under, so a subject may have several live keys and all of them stay
// readable.
//
// ClickHouse has no transactions or locks, so two writers may race to create a
// subject's first key and both succeed. That is harmless: each ciphertext names
// its key, and DataKeyFor picks deterministically (oldest CreatedAt, then
// smallest KeyID) among the live keys, so writers converge on one key as soon
// as they see each other's: DataKeyFor re-reads right after creating a key;
// DataKeysFor (a batch) does not, and sees the other's key once its cache
// entry expires (CacheTTL). Within one process creation is single-flighted
// per subject.
//
// Shred destroys all of a subject's keys; every value sealed under them becomes
// undecryptable (ErrKeyDestroyed), wherever copies of the ciphertext live.
//
// Master-key rotation: configure the new key as active and the old ones as
// previous (New(store, newKey, oldKey)); everything stays readable and new keys
// are wrapped under the new master. A Rotator (rotate.go; `custody keys`)
// re-wraps every stored key under the active master, in pages, resumably and
// safely beside shreds, and counts the keys each master still wraps; once a
// previous master wraps no live key it can be removed from configuration and
// destroyed. Rewrap / RewrapSubject re-wrap one key or one subject's keys.
//
// # Threat model
//
// Protects: values at rest in ClickHouse data files, replicas, exported parts
// and backups, against anyone who obtains them without the master key. After
// Shred (and once ClickHouse has merged away the old key rows), the subject's
// values are unrecoverable even by the operator. Backups taken before the shred
// still hold the wrapped DEK: they stay decryptable for as long as the master
// key that wrapped it exists, so crypto-shredding reaches into old backups only
// after the master key is rotated and the old one destroyed. Tampering with a
// ciphertext or wrapped key, or moving it to another subject or event (when the
// caller binds an event id as AAD), is detected (ErrDecrypt).
//
// Does NOT protect: against a process (or anyone able to read its memory, core
// dumps or swap) holding the master key — it can unwrap every live key; nor
// against someone with both the database and the master key file; nor does it
// hide which subjects exist, how many values they have, their sizes or any
// field stored unencrypted. Key material is zeroed where Go makes that
// practical (raw DEK bytes right after the AES key schedule is built), but the
// runtime may leave copies (e.g. the AES key schedule, GC-moved memory).
//
// Cache: unwrapped keys are cached in memory for Options.CacheTTL. A Shred in
// this process evicts immediately; a Shred performed by another process becomes
// visible here within CacheTTL. Callers should not write for a subject while
// erasing it.
//
// Master keys and data keys print (String, fmt verbs, slog) only their ids.
// Fingerprint names any 32-byte secret (a master key, the identifier key)
// without revealing it; package storage records the fingerprints of the
// keys the data was written under and refuses to start with other ones.
package keyring
