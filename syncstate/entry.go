package syncstate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Hash is the SHA-256 fingerprint of a mapped user. It is kept as its 32
// bytes, not hex: at 10M users the state's size is what a sync touches.
type Hash [sha256.Size]byte

// IsZero reports the zero Hash, which RecordHash returns for a value it
// cannot encode and which matches no stored fingerprint.
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// RecordHash is the SHA-256 of v's JSON encoding, which is canonical for the
// mapped user: struct fields keep their order and encoding/json sorts map
// keys. A value that cannot be encoded hashes to the zero Hash, which matches
// no stored hash, so the user is sent: the safe side. It is the SHA-256 of
// the same bytes the previous (hex) format stored, so a state written before
// the binary format still says "unchanged" for the same users.
func RecordHash(v any) Hash {
	b, err := json.Marshal(v)
	if err != nil {
		return Hash{}
	}
	return sha256.Sum256(b)
}

// Entry is what the state remembers of a user the tenant confirmed.
type Entry struct {
	// Hash is RecordHash of the mapped user that was synced.
	Hash   Hash
	UserID string
	// SyncedAt is kept to the second: it is only ever shown in RFC 3339.
	SyncedAt time.Time
}

// An entry is stored as
//
//	formatV1 | hash (32 bytes) | synced_at (varint Unix seconds) | user_id
//
// about 40 bytes plus the user id (none in import mode), where the JSON of
// earlier releases took about 150. formatV1 can never begin a JSON object,
// so entries the earlier release wrote are still read (see decodeEntry) and
// are rewritten in this form when their user is next synced.
const formatV1 byte = 1

// maxEntryOverhead bounds an encoded entry's size without its user id.
const maxEntryOverhead = 1 + sha256.Size + binary.MaxVarintLen64

func encodeEntry(e Entry) []byte {
	b := make([]byte, 0, maxEntryOverhead+len(e.UserID))
	b = append(b, formatV1)
	b = append(b, e.Hash[:]...)
	b = binary.AppendVarint(b, e.SyncedAt.Unix())
	return append(b, e.UserID...)
}

// errCorrupt is a stored value that is neither format: a damaged state.
var errCorrupt = errors.New("syncstate: stored entry is not in a known format")

func decodeEntry(v []byte) (Entry, error) {
	if len(v) == 0 {
		return Entry{}, errCorrupt
	}
	switch v[0] {
	case formatV1:
		v = v[1:]
		if len(v) < sha256.Size {
			return Entry{}, errCorrupt
		}
		var e Entry
		copy(e.Hash[:], v)
		sec, n := binary.Varint(v[sha256.Size:])
		if n <= 0 {
			return Entry{}, errCorrupt
		}
		e.SyncedAt = time.Unix(sec, 0).UTC()
		e.UserID = string(v[sha256.Size+n:])
		return e, nil
	case '{':
		return decodeJSONEntry(v)
	}
	return Entry{}, errCorrupt
}

// jsonEntry is an entry as the releases before the binary format wrote it.
type jsonEntry struct {
	Hash     string    `json:"hash"`
	UserID   string    `json:"user_id"`
	SyncedAt time.Time `json:"synced_at"`
}

// decodeJSONEntry reads an earlier release's entry. Its hex hash becomes the
// same 32 bytes; a hash that is not 64 hex digits (never written, but a
// state is a file) becomes the zero Hash, which matches nothing: that user
// is sent again, the safe side.
func decodeJSONEntry(v []byte) (Entry, error) {
	var j jsonEntry
	if err := json.Unmarshal(v, &j); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	e := Entry{UserID: j.UserID, SyncedAt: j.SyncedAt.Truncate(time.Second).UTC()}
	if len(j.Hash) == 2*sha256.Size {
		if _, err := hex.Decode(e.Hash[:], []byte(j.Hash)); err != nil {
			e.Hash = Hash{}
		}
	}
	return e, nil
}
