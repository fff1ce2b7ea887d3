// Package gen writes seeded, realistic user files for benchmarks, fixtures
// and demos: the same seed always gives the same bytes.
package gen

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/input"
)

// GenOptions shape the generated users.
type GenOptions struct {
	// InvalidRate is the fraction of users made invalid in one way (bad
	// email, bad phone, bad hash, reserved app_metadata key, bad boolean).
	InvalidRate float64
	// DuplicateRate is the fraction of users that repeat an earlier user's
	// email (in another letter case).
	DuplicateRate float64
	// Mode ModeCreate writes a plaintext password instead of a hash.
	Mode input.Mode
	// Export writes NDJSON the way an Auth0 user export does: "auth0|"
	// user ids and export-only properties (created_at, identities…).
	Export bool
	// Domain of the generated emails; "example.com" when empty.
	Domain string
}

var (
	givenNames  = []string{"Ava", "Liam", "Olivia", "Noah", "Emma", "Lucas", "Sofia", "Mateo", "Amélie", "Jürgen", "Chloé", "Hiroshi", "Priya", "Mohammed", "Zoe", "Ingrid", "Kwame", "Lena", "Diego", "Aoife", "Björn", "Fatima", "Yusuf", "Mei", "Oscar"}
	familyNames = []string{"Smith", "García", "Müller", "Rossi", "Nakamura", "Okafor", "Johansson", "Dubois", "Kowalski", "Patel", "O'Brien", "Nguyen", "Silva", "Andersen", "Cohen", "Novak", "Haddad", "Fischer", "Moreau", "Li"}
	plans       = []string{"free", "starter", "pro", "enterprise"}
	locales     = []string{"en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR"}
	bcryptChars = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// person is the deterministic identity of user i (so a duplicate can
// recreate an earlier email without remembering it).
func person(seed int64, i int, domain string) (given, family, email string) {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	given = givenNames[r.IntN(len(givenNames))]
	family = familyNames[r.IntN(len(familyNames))]
	local := strings.ToLower(asciiOnly(given) + "." + asciiOnly(family))
	return given, family, fmt.Sprintf("%s%d@%s", local, i, domain)
}

func asciiOnly(s string) string {
	r := strings.NewReplacer("é", "e", "ü", "u", "í", "i", "ö", "o", "'", "", "ç", "c", "á", "a")
	return r.Replace(s)
}

// genUser is one generated user, its password (create mode) and whether
// its CSV form gets an unreadable boolean.
type genUser struct {
	u       input.User
	pw      string
	badBool bool // CSV only: an unreadable boolean cell
	created time.Time
}

func build(seed int64, i int, rng *rand.Rand, o GenOptions) genUser {
	domain := o.Domain
	if domain == "" {
		domain = "example.com"
	}
	given, family, email := person(seed, i, domain)
	g := genUser{}
	u := &g.u
	if i > 0 && rng.Float64() < o.DuplicateRate {
		_, _, email = person(seed, rng.IntN(i), domain)
		email = strings.ToUpper(email[:1]) + email[1:]
	}
	u.Email = email
	verified := rng.IntN(4) != 0
	u.EmailVerified = &verified
	u.GivenName, u.FamilyName = given, family
	u.Name = given + " " + family
	u.Nickname = strings.ToLower(asciiOnly(given))
	g.created = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(5*365*24)) * time.Hour)
	// Like Auth0's ids: 24 hex digits, a timestamp then randomness.
	u.UserID = fmt.Sprintf("%08x%016x", g.created.Unix(), rng.Uint64())
	if rng.IntN(3) == 0 {
		u.PhoneNumber = fmt.Sprintf("+%d%09d", 1+rng.IntN(98), rng.IntN(1_000_000_000))
	}
	if rng.IntN(2) == 0 {
		u.Picture = fmt.Sprintf("https://cdn.example.com/avatars/%d.png", i)
	}
	if rng.IntN(50) == 0 {
		b := true
		u.Blocked = &b
	}
	if o.Mode == input.ModeCreate {
		g.pw = fmt.Sprintf("Pw-%08x!%d", rng.Uint32(), i)
	} else {
		var h strings.Builder
		h.WriteString("$2b$10$")
		for range 53 {
			h.WriteByte(bcryptChars[rng.IntN(len(bcryptChars))])
		}
		u.PasswordHash = h.String()
	}
	u.UserMetadata = map[string]any{"plan": plans[rng.IntN(len(plans))], "locale": locales[rng.IntN(len(locales))]}
	u.AppMetadata = map[string]any{"tier": strconv.Itoa(1 + rng.IntN(3)), "legacy_id": strconv.Itoa(100000 + i)}
	if rng.Float64() < o.InvalidRate {
		switch rng.IntN(5) {
		case 0:
			u.Email = strings.Replace(u.Email, "@", " at ", 1)
		case 1:
			u.PhoneNumber = "555-0100"
		case 2:
			u.PasswordHash = "$2y$10$short" // wrong variant and length
			g.pw = ""
		case 3:
			u.AppMetadata["loginsCount"] = "7"
		case 4:
			g.badBool = true
			u.Email = ""
		}
	}
	return g
}

// Users writes n users in format f to w.
func Users(seed int64, n int, w io.Writer, f input.Format, o GenOptions) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	switch f {
	case input.FormatCSV:
		return writeCSV(seed, n, w, rng, o)
	case input.FormatJSON, input.FormatNDJSON:
		return writeJSON(seed, n, w, f, rng, o)
	}
	return fmt.Errorf("gen: unknown format %q", f)
}

var csvHeader = []string{"email", "email_verified", "given_name", "family_name", "name", "nickname", "phone_number", "user_id", "picture", "blocked", "password_hash", "user_metadata.plan", "user_metadata.locale", "app_metadata.tier", "app_metadata.legacy_id"}

func writeCSV(seed int64, n int, w io.Writer, rng *rand.Rand, o GenOptions) error {
	cw := csv.NewWriter(w)
	header := append([]string(nil), csvHeader...)
	if o.Mode == input.ModeCreate {
		header[10] = "password"
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	for i := range n {
		g := build(seed, i, rng, o)
		u := g.u
		secret := u.PasswordHash
		if o.Mode == input.ModeCreate {
			secret = g.pw
		}
		ev := strconv.FormatBool(*u.EmailVerified)
		if g.badBool {
			ev = "perhaps"
			u.Email = fmt.Sprint(i) + "@example.com"
		}
		tier := fmt.Sprint(u.AppMetadata["tier"])
		if _, bad := u.AppMetadata["loginsCount"]; bad {
			tier = "" // CSV has no column for it: spoil the phone instead
			u.PhoneNumber = "+0"
		}
		row := []string{u.Email, ev, u.GivenName, u.FamilyName, u.Name, u.Nickname, u.PhoneNumber, u.UserID, u.Picture,
			boolCell(u.Blocked), secret, fmt.Sprint(u.UserMetadata["plan"]), fmt.Sprint(u.UserMetadata["locale"]), tier, fmt.Sprint(u.AppMetadata["legacy_id"])}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

func boolCell(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// exportUser adds what an Auth0 export carries beyond the import schema.
type exportUser struct {
	input.User
	CreatedAt   string           `json:"created_at"`
	UpdatedAt   string           `json:"updated_at"`
	LoginsCount int              `json:"logins_count"`
	Identities  []map[string]any `json:"identities"`
}

type createUser struct {
	input.User
	Password string `json:"password,omitempty"`
}

func writeJSON(seed int64, n int, w io.Writer, f input.Format, rng *rand.Rand, o GenOptions) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	sep := func(s string) error { _, err := io.WriteString(w, s); return err }
	if f == input.FormatJSON {
		if err := sep("[\n"); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	for i := range n {
		g := build(seed, i, rng, o)
		if g.badBool {
			g.u.Email = "" // JSON cannot hold a bad boolean: drop the email
		}
		var v any = &g.u
		switch {
		case o.Export && f == input.FormatNDJSON:
			g.u.UserID = "auth0|" + g.u.UserID
			ts := g.created.Format("2006-01-02T15:04:05.000Z")
			v = exportUser{User: g.u, CreatedAt: ts, UpdatedAt: ts, LoginsCount: rng.IntN(200),
				Identities: []map[string]any{{"provider": "auth0", "user_id": strings.TrimPrefix(g.u.UserID, "auth0|"), "connection": "Username-Password-Authentication", "isSocial": false}}}
		case o.Mode == input.ModeCreate:
			v = createUser{User: g.u, Password: g.pw}
		}
		if f == input.FormatJSON && i > 0 {
			if err := sep(","); err != nil {
				return fmt.Errorf("gen: %w", err)
			}
		}
		if err := enc.Encode(v); err != nil { // Encode ends each user with '\n'
			return fmt.Errorf("gen: %w", err)
		}
	}
	if f == input.FormatJSON {
		if err := sep("]\n"); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
	}
	return nil
}
