package keyring

import (
	"container/list"
	"sync"
	"time"
)

type subjectRef struct{ tenant, subject string }

// keyCache is an LRU of subjects, each with its unwrapped data keys and the
// current key chosen by DataKeyFor. Entries older than ttl are not returned.
//
// Eviction drops the DataKey; its raw bytes were already zeroed when it was
// built (only the AES key schedule remains, which Go gives no way to zero and
// which becomes garbage once unreferenced).
//
// gen guards against a load that raced with an eviction: a loader records gen
// before reading the store and its result is only cached if no subject was
// evicted (Shred) since. Shreds are rare, so the cost is the odd extra miss.
type keyCache struct {
	mu   sync.Mutex
	max  int
	ttl  time.Duration
	gen  uint64
	ll   *list.List // *cacheEntry, most recently used at front
	byID map[subjectRef]*list.Element
}

type cacheEntry struct {
	ref       subjectRef
	current   string // KeyID chosen by DataKeyFor, "" if none
	currentAt time.Time
	keys      map[string]cachedKey
}

type cachedKey struct {
	dk DataKey
	at time.Time
}

func newKeyCache(max int, ttl time.Duration) *keyCache {
	return &keyCache{max: max, ttl: ttl, ll: list.New(), byID: make(map[subjectRef]*list.Element)}
}

func (c *keyCache) fresh(at, now time.Time) bool { return now.Sub(at) < c.ttl }

func (c *keyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// current returns the subject's cached current key.
func (c *keyCache) current(ref subjectRef, now time.Time) (DataKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byID[ref]
	if !ok {
		return DataKey{}, false
	}
	e := el.Value.(*cacheEntry)
	if e.current == "" || !c.fresh(e.currentAt, now) {
		return DataKey{}, false
	}
	ck, ok := e.keys[e.current]
	if !ok {
		return DataKey{}, false
	}
	c.ll.MoveToFront(el)
	return ck.dk, true
}

// key returns a cached key by id.
func (c *keyCache) key(ref subjectRef, keyID string, now time.Time) (DataKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byID[ref]
	if !ok {
		return DataKey{}, false
	}
	ck, ok := el.Value.(*cacheEntry).keys[keyID]
	if !ok || !c.fresh(ck.at, now) {
		return DataKey{}, false
	}
	c.ll.MoveToFront(el)
	return ck.dk, true
}

// put caches dk (as the current key if current) unless an eviction happened
// since gen was read.
func (c *keyCache) put(ref subjectRef, dk DataKey, current bool, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	var e *cacheEntry
	if el, ok := c.byID[ref]; ok {
		c.ll.MoveToFront(el)
		e = el.Value.(*cacheEntry)
	} else {
		e = &cacheEntry{ref: ref, keys: make(map[string]cachedKey, 1)}
		c.byID[ref] = c.ll.PushFront(e)
		for c.ll.Len() > c.max {
			c.removeLocked(c.ll.Back())
		}
	}
	e.keys[dk.KeyID] = cachedKey{dk: dk, at: now}
	if current {
		e.current, e.currentAt = dk.KeyID, now
	}
}

// evict forgets a subject and invalidates in-flight loads.
func (c *keyCache) evict(ref subjectRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el, ok := c.byID[ref]; ok {
		c.removeLocked(el)
	}
}

func (c *keyCache) removeLocked(el *list.Element) {
	e := c.ll.Remove(el).(*cacheEntry)
	delete(c.byID, e.ref)
	clear(e.keys) // drop references to the key schedules promptly
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
