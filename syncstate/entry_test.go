package syncstate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEntryRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Entry
		want Entry // what reads back: SyncedAt to the second, in UTC
		size int
	}{
		{"create mode", Entry{Hash: hashOf("a"), UserID: "auth0|65a1b2c3d4e5f60718293a4b", SyncedAt: t0},
			Entry{Hash: hashOf("a"), UserID: "auth0|65a1b2c3d4e5f60718293a4b", SyncedAt: t0}, 1 + 32 + 5 + 30},
		{"import mode: no id", Entry{Hash: hashOf("b"), SyncedAt: t0},
			Entry{Hash: hashOf("b"), SyncedAt: t0}, 1 + 32 + 5},
		{"sub-second and zone dropped", Entry{Hash: hashOf("c"), UserID: "x", SyncedAt: t0.Add(999 * time.Millisecond).In(time.FixedZone("CET", 3600))},
			Entry{Hash: hashOf("c"), UserID: "x", SyncedAt: t0}, 1 + 32 + 5 + 1},
		{"zero time", Entry{Hash: hashOf("d"), UserID: "y"}, Entry{Hash: hashOf("d"), UserID: "y"}, 1 + 32 + 6 + 1},
		{"before 1970", Entry{SyncedAt: time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
			Entry{SyncedAt: time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)}, 1 + 32 + 4},
		{"id in any bytes", Entry{Hash: hashOf("e"), UserID: "samlp|Ünïcode|\x00|{", SyncedAt: t0},
			Entry{Hash: hashOf("e"), UserID: "samlp|Ünïcode|\x00|{", SyncedAt: t0}, 1 + 32 + 5 + len("samlp|Ünïcode|\x00|{")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := encodeEntry(tc.in)
			if len(v) != tc.size || v[0] != formatV1 {
				t.Fatalf("encoded in %d bytes starting %#x, want %d starting %#x", len(v), v[0], tc.size, formatV1)
			}
			got, err := decodeEntry(v)
			if err != nil || got.Hash != tc.want.Hash || got.UserID != tc.want.UserID || !got.SyncedAt.Equal(tc.want.SyncedAt) {
				t.Fatalf("decoded %+v, %v; want %+v", got, err, tc.want)
			}
			if got.SyncedAt.Location() != time.UTC {
				t.Fatalf("decoded time in %v", got.SyncedAt.Location())
			}
		})
	}
}

// Entries the releases before the binary format wrote are read as the
// same entries; a hash they could not have written matches nothing.
func TestDecodeJSONEntry(t *testing.T) {
	h := RecordHash("user")
	for _, tc := range []struct {
		name string
		v    string
		want Entry
	}{
		{"as written", `{"hash":"` + h.String() + `","user_id":"auth0|1","synced_at":"2026-11-25T02:00:00Z"}`,
			Entry{Hash: h, UserID: "auth0|1", SyncedAt: t0}},
		{"import mode", `{"hash":"` + h.String() + `","user_id":"","synced_at":"2026-11-25T02:00:00.123456789Z"}`,
			Entry{Hash: h, SyncedAt: t0}},
		{"upper-case hex", `{"hash":"` + strings.ToUpper(h.String()) + `","synced_at":"2026-11-25T03:00:00+01:00"}`,
			Entry{Hash: h, SyncedAt: t0}},
		{"no hash", `{"user_id":"auth0|2","synced_at":"2026-11-25T02:00:00Z"}`, Entry{UserID: "auth0|2", SyncedAt: t0}},
		{"short hash", `{"hash":"h1","synced_at":"2026-11-25T02:00:00Z"}`, Entry{SyncedAt: t0}},
		{"not hex", `{"hash":"` + strings.Repeat("zz", 32) + `","synced_at":"2026-11-25T02:00:00Z"}`, Entry{SyncedAt: t0}},
		{"unknown fields", `{"hash":"` + h.String() + `","extra":[1,2]}`, Entry{Hash: h}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeEntry([]byte(tc.v))
			if err != nil || got.Hash != tc.want.Hash || got.UserID != tc.want.UserID || !got.SyncedAt.Equal(tc.want.SyncedAt) {
				t.Fatalf("decoded %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestDecodeCorruptEntry(t *testing.T) {
	full := encodeEntry(Entry{Hash: hashOf("a"), SyncedAt: t0})
	for _, tc := range []struct {
		name string
		v    []byte
	}{
		{"empty", nil},
		{"unknown format", append([]byte{2}, full[1:]...)},
		{"hash cut short", full[:20]},
		{"no time", full[:1+32]},
		{"time cut short", append(append([]byte{}, full[:1+32]...), 0x80)},
		{"broken JSON", []byte(`{"hash":`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeEntry(tc.v); !errors.Is(err, errCorrupt) {
				t.Fatalf("decode %q: %v, want errCorrupt", tc.v, err)
			}
		})
	}
	if formatV1 == '{' {
		t.Fatal("formatV1 would be read as JSON")
	}
}
