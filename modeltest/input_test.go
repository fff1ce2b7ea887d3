package modeltest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

// Input formats a schedule can write its users in.
const (
	fmtNDJSON   = "ndjson"
	fmtCSV      = "csv"
	fmtPretty   = "json-pretty"   // one field per line, objects separated by "},\n{"
	fmtBraces   = "json-braces"   // pretty, but "}, {" joins objects on one line
	fmtMinified = "json-minified" // the whole array on one line (json.dump, jq -c)
)

// record is one user of the input, as the model knows it.
type record struct {
	ordinal int    // 1-based position in its file
	line    int    // the line its record starts on
	email   string // the user's email (letter case varies)
	written string // the email as the input file holds it (an invalid one for some invalid records)
	given   string
	plan    string
	// invalid: the client's own validation refuses it (a bad email or
	// phone), so it is never sent.
	invalid bool
	// weak: valid to the client, but its password is refused by the
	// tenant's policy (create mode): it can only end failed.
	weak bool
	// pre: the tenant holds the user before the run starts.
	pre bool
}

func (r *record) key() string { return strings.ToLower(r.email) }

// wireUser is a record as the input file holds it, in the import schema
// (create mode: a plaintext password instead of the hash).
type wireUser struct {
	Email         string            `json:"email"`
	EmailVerified bool              `json:"email_verified"`
	GivenName     string            `json:"given_name,omitempty"`
	FamilyName    string            `json:"family_name,omitempty"`
	PhoneNumber   string            `json:"phone_number,omitempty"`
	PasswordHash  string            `json:"password_hash,omitempty"`
	Password      string            `json:"password,omitempty"`
	UserMetadata  map[string]string `json:"user_metadata,omitempty"`
}

var (
	modelGiven  = []string{"Ava", "Liam", "Olivia", "Noah", "Chloé", "Jürgen", "Priya", "Kwame", "Mei", "Diego"}
	modelFamily = []string{"Smith", "García", "Müller", "Okafor", "Nakamura", "Dubois", "Patel", "Silva"}
	modelPlans  = []string{"free", "starter", "pro", "enterprise"}
)

// makeRecords draws n users; prefix keeps every schedule's emails apart
// from any other's.
func makeRecords(rng *rand.Rand, n int, prefix string, p inputPlan) []*record {
	recs := make([]*record, n)
	for i := range recs {
		local := fmt.Sprintf("%s.u%d", prefix, i+1)
		if rng.IntN(4) == 0 { // the tenant stores emails lower-cased
			local = strings.ToUpper(local[:1]) + local[1:]
		}
		r := &record{ordinal: i + 1, email: local + "@example.com",
			given: modelGiven[rng.IntN(len(modelGiven))], plan: modelPlans[rng.IntN(len(modelPlans))]}
		switch x := rng.Float64(); {
		case x < p.invalidRate:
			r.invalid = true
		case x < p.invalidRate+p.weakRate:
			r.weak = true
		case x < p.invalidRate+p.weakRate+p.preRate:
			r.pre = true
		}
		recs[i] = r
	}
	return recs
}

// inputPlan is how many of the records are of each special kind.
type inputPlan struct {
	invalidRate, weakRate, preRate float64
}

// wire is the record in the input file. Half the invalid records have an
// email the client refuses (no user can hold it), half a bad phone number
// beside a good email (the user must stay absent from the tenant).
func (r *record) wire(create bool) wireUser {
	u := wireUser{Email: r.email, EmailVerified: true, GivenName: r.given, FamilyName: modelFamily[r.ordinal%len(modelFamily)],
		UserMetadata: map[string]string{"plan": r.plan}}
	if create {
		u.Password = fmt.Sprintf("Pw-%d-Correct-Horse!", r.ordinal)
		if r.weak {
			u.Password = "password"
		}
	} else {
		// A bcrypt-shaped hash with 10 rounds: what the schema accepts.
		u.PasswordHash = "$2b$10$" + strings.Repeat(string(rune('a'+r.ordinal%26)), 53)
	}
	if r.invalid {
		if r.ordinal%2 == 0 {
			u.Email = strings.Replace(r.email, "@", " at ", 1)
		} else {
			u.PhoneNumber = "555-0100"
		}
	}
	return u
}

// writeInput writes recs to path in format, setting each record's line.
func writeInput(path, format string, recs []*record, create bool) error {
	for _, r := range recs {
		r.written = r.wire(create).Email
	}
	var b bytes.Buffer
	line := func() int { return 1 + bytes.Count(b.Bytes(), []byte{'\n'}) }
	switch format {
	case fmtNDJSON:
		for _, r := range recs {
			r.line = line()
			j, err := json.Marshal(r.wire(create))
			if err != nil {
				return err
			}
			b.Write(j)
			b.WriteByte('\n')
		}
	case fmtCSV:
		w := csv.NewWriter(&b)
		secret := "password_hash"
		if create {
			secret = "password"
		}
		_ = w.Write([]string{"email", "email_verified", "given_name", "family_name", "phone_number", secret, "user_metadata.plan"})
		for _, r := range recs {
			w.Flush()
			r.line = line()
			u := r.wire(create)
			_ = w.Write([]string{u.Email, "true", u.GivenName, u.FamilyName, u.PhoneNumber, u.PasswordHash + u.Password, u.UserMetadata["plan"]})
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
	case fmtMinified:
		b.WriteByte('[')
		for i, r := range recs {
			if i > 0 {
				b.WriteByte(',')
			}
			r.line = 1
			j, err := json.Marshal(r.wire(create))
			if err != nil {
				return err
			}
			b.Write(j)
		}
		b.WriteString("]\n")
	case fmtPretty, fmtBraces:
		b.WriteString("[\n")
		for i, r := range recs {
			j, err := json.MarshalIndent(r.wire(create), "  ", "  ")
			if err != nil {
				return err
			}
			switch {
			case i == 0:
				b.WriteString("  ")
			case format == fmtBraces:
				b.WriteString(", ") // "  }, {": the next object starts on this line
			default:
				b.WriteString(",\n  ")
			}
			r.line = line()
			b.Write(j)
		}
		b.WriteString("\n]\n")
	default:
		return fmt.Errorf("unknown format %q", format)
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}

// extension is the file name ending that makes a0bulk read format.
func extension(format string) string {
	switch format {
	case fmtNDJSON:
		return ".ndjson"
	case fmtCSV:
		return ".csv"
	}
	return ".json"
}
