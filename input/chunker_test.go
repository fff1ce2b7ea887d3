package input

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestChunkerFraming(t *testing.T) {
	c := NewChunker(60, 7)
	recs := []Record{
		{File: "f", Line: 1, User: User{Email: "a@x.io", Name: "<A & B>"}, Password: "secret-pw"},
		{File: "f", Line: 2, User: User{Email: "b@x.io", UserID: "u2"}},
		{File: "f", Line: 3, User: User{Email: "c@x.io"}},
	}
	var chunks []*Chunk
	for _, r := range recs {
		full, err := c.Add(r)
		if err != nil {
			t.Fatal(err)
		}
		if full != nil {
			chunks = append(chunks, full)
		}
	}
	if last := c.Flush(); last != nil {
		chunks = append(chunks, last)
	}
	if c.Flush() != nil {
		t.Error("second Flush not nil")
	}
	want := []string{
		`[{"email":"a@x.io","name":"<A & B>"}]`,
		`[{"email":"b@x.io","user_id":"u2"},{"email":"c@x.io"}]`,
	}
	if len(chunks) != len(want) {
		t.Fatalf("got %d chunks", len(chunks))
	}
	for i, ch := range chunks {
		if string(ch.Body) != want[i] || ch.Seq != 7+i {
			t.Errorf("chunk %d: seq %d %s", i, ch.Seq, ch.Body)
		}
		if strings.Contains(string(ch.Body), "secret-pw") {
			t.Error("password serialised")
		}
	}
	if r := chunks[1].Records; len(r) != 2 || r[0] != (ChunkRecord{File: "f", Line: 2, Email: "b@x.io", UserID: "u2"}) {
		t.Errorf("records %+v", r)
	}
	if c.NextSeq() != 9 {
		t.Errorf("next seq %d", c.NextSeq())
	}
}

func TestChunkerTooLargeAndInvalid(t *testing.T) {
	c := NewChunker(30, 1)
	if _, err := c.Add(Record{User: User{Email: "a@x.io"}}); err != nil { // 20 bytes: fits
		t.Fatal(err)
	}
	_, err := c.Add(Record{User: User{Email: "a@x.io", Name: strings.Repeat("n", 30)}})
	if !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("err %v", err)
	}
	if _, err := c.Add(Record{Errors: []FieldError{{Reason: "x"}}}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("err %v", err)
	}
	// The rejected records left the chunk untouched.
	if ch := c.Flush(); string(ch.Body) != `[{"email":"a@x.io"}]` {
		t.Errorf("body %s", ch.Body)
	}
	// Exactly at the limit fits.
	c = NewChunker(20, 1)
	if _, err := c.Add(Record{User: User{Email: "a@x.io"}}); err != nil {
		t.Fatalf("record of exactly the limit: %v", err)
	}
}

// Property: whatever the record sizes, no chunk passes the limit, every
// chunk is a JSON array of the records in order, and none is lost.
func TestChunkerNeverExceedsLimit(t *testing.T) {
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 1))
		limit := 40 + rng.IntN(2000)
		c := NewChunker(limit, 1)
		n := 1 + rng.IntN(300)
		var got []*Chunk
		added := 0
		for i := range n {
			name := strings.Repeat("x", rng.IntN(limit))
			full, err := c.Add(Record{Line: i, User: User{Email: "a@x.io", Name: name}})
			if errors.Is(err, ErrRecordTooLarge) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			added++
			if full != nil {
				got = append(got, full)
			}
		}
		if last := c.Flush(); last != nil {
			got = append(got, last)
		}
		total := 0
		for i, ch := range got {
			if len(ch.Body) > limit {
				t.Fatalf("seed %d: chunk %d is %d bytes, limit %d", seed, i, len(ch.Body), limit)
			}
			var users []User
			if err := json.Unmarshal(ch.Body, &users); err != nil || len(users) != len(ch.Records) || len(users) == 0 {
				t.Fatalf("seed %d: chunk %d: %v, %d users, %d records", seed, i, err, len(users), len(ch.Records))
			}
			if ch.Seq != i+1 {
				t.Fatalf("seed %d: seq %d", seed, ch.Seq)
			}
			total += len(users)
		}
		if total != added {
			t.Fatalf("seed %d: %d users chunked, %d added", seed, total, added)
		}
	}
}
