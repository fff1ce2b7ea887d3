package run

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/hashes"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// bcrypt10 is a valid bcrypt hash at cost 10 that names tag (a test's
// secret: it must reach the tenant and nothing else).
func bcrypt10(tag string) string { return bcryptCost(10, tag) }

func bcryptCost(cost int, tag string) string {
	t := "HashCanary" + tag
	return fmt.Sprintf("$2b$%02d$", cost) + t + strings.Repeat("x", 53-len(t))
}

func fingerprint(h string) string {
	s := sha256.Sum256([]byte(h))
	return hex.EncodeToString(s[:])
}

// hashLine is a line of support's password-hash export; alt picks alt_id
// over _id.$oid, noRootEmail leaves the email in identifiers only.
func hashLine(id, email, hash string, alt, noRootEmail bool) string {
	m := map[string]any{
		"_id": map[string]string{"$oid": id}, "email_verified": true, "passwordHash": hash,
		"password_set_date": map[string]string{"$date": "2019-12-06T18:36:12.412Z"}, "tenant": "src", "connection": syncConn,
		"identifiers": []map[string]any{{"type": "email", "value": email, "verified": true}},
	}
	if alt {
		m["_id"], m["alt_id"] = map[string]string{"$oid": "5dea9f9c82dd7c0e76e4ec93"}, id
	}
	if !noRootEmail {
		m["email"] = email
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func writeLines(t *testing.T, path string, lines ...string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readListing reads a run's hash-join listing.
func readListing(t *testing.T, path string) []hashes.Listed {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []hashes.Listed
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l hashes.Listed
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("listing line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// noHashIn fails when a file holds any of the test's hashes.
func noHashIn(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := strings.Index(string(b), "HashCanary"); i >= 0 {
		t.Errorf("%s holds a password hash: …%s…", path, b[max(0, i-40):min(len(b), i+40)])
	}
}

// An import with --hashes against the sandbox: every user gets its own
// hash (the tenant's fingerprint says which), by alt_id or _id.$oid,
// whatever the export's user_id prefix; the others go without or are held
// back, the summary counts each outcome, the listing names what did not
// pair, and no hash is in the report, the listing or the summary.
func TestImportJoinsHashes(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	in := writeLines(t, filepath.Join(e.dir, "export.ndjson"),
		`{"user_id":"auth0|euclid","email":"euclid@example.com","email_verified":true,"created_at":"2020-01-01T00:00:00.000Z","identities":[{"provider":"auth0","user_id":"euclid"}]}`,
		`{"user_id":"auth0|5dea0001","email":"oid@example.com"}`,
		`{"user_id":"auth0|nohash","email":"nohash@example.com"}`,
		`{"user_id":"auth0|twice","email":"twice@example.com"}`,
		`{"user_id":"auth0|cost12","email":"cost12@example.com"}`,
		`{"user_id":"bare","email":"bare@example.com"}`,
	)
	hf := writeLines(t, filepath.Join(e.dir, "hashes.ndjson"),
		hashLine("euclid", "euclid@example.com", bcrypt10("euclid"), true, false),
		hashLine("5dea0001", "oid@example.com", bcrypt10("oid"), false, true),
		hashLine("twice", "twice@example.com", bcrypt10("twice1"), false, false),
		`{"_id":{"$oid":"broken"`,
		hashLine("twice", "twice2@example.com", bcrypt10("twice2"), true, false),
		hashLine("cost12", "cost12@example.com", bcryptCost(12, "cost12"), false, false),
		hashLine("bare", "bare@example.com", bcrypt10("bare"), false, false),
		hashLine("gone", "gone@example.com", bcrypt10("gone"), false, false),
	)
	spec := Spec{Mode: ModeImport, Connection: syncConn, Inputs: []string{in}, ReportPath: filepath.Join(e.dir, "run.ndjson")}
	spec.Settings = Defaults()
	spec.Hashes = hf
	sum, err := Run(context.Background(), e.env(), spec)
	if !incomplete(err) {
		t.Fatalf("want exit 3 (the ambiguous record), got %v", err)
	}

	// The tenant: each user has its own hash, or none.
	got := map[string]sandbox.SandboxUser{}
	for _, u := range e.sb.Users() {
		got[u.Email] = u
	}
	for email, hash := range map[string]string{
		"euclid@example.com": bcrypt10("euclid"), "oid@example.com": bcrypt10("oid"),
		"cost12@example.com": bcryptCost(12, "cost12"), "bare@example.com": bcrypt10("bare"), "nohash@example.com": "",
	} {
		u, ok := got[email]
		want := ""
		if hash != "" {
			want = fingerprint(hash)
		}
		if !ok || u.PasswordHashSHA256 != want || u.HasPassword != (hash != "") {
			t.Errorf("%s: in the tenant %v, has_password %v, fingerprint %.12s (want %.12s)", email, ok, u.HasPassword, u.PasswordHashSHA256, want)
		}
	}
	if u, ok := got["euclid@example.com"]; ok && u.UserID != "auth0|euclid" {
		t.Errorf("user id %q: the prefix doubled or lost", u.UserID)
	}
	if _, ok := got["twice@example.com"]; ok {
		t.Error("the ambiguous record was sent (a hash is insert-only: it must be held back)")
	}

	// The report: the ambiguous record is invalid on password_hash.
	f := finals(t, spec.ReportPath)
	if e := f["twice@example.com"]; e.Status != report.Invalid || !strings.Contains(e.Reason, "password_hash: ambiguous: lines 3 and 5 of --hashes "+hf) {
		t.Errorf("ambiguous record: %+v", e)
	}
	if n := len(f); n != 6 {
		t.Errorf("%d final lines, want 6", n)
	}
	h, err := report.ReadHeader(spec.ReportPath)
	if err != nil || h.Settings.Hashes != hf || len(h.Settings.HashesSHA256) != 64 {
		t.Errorf("header settings %+v, %v", h.Settings, err)
	}

	// The summary counts every record's outcome and the hash lines.
	want := HashSummary{File: hf, By: "id", Counts: hashes.Counts{Joined: 4, None: 1, Ambiguous: 1, AsCustom: 1, Lines: 7, Unmatched: 3, Unreadable: 1},
		Listing: hashes.ListingPath(spec.ReportPath), Complete: true}
	if sum.Hashes == nil || !equalHashSummary(*sum.Hashes, want) {
		t.Errorf("summary %+v\nwant    %+v", sum.Hashes, want)
	}
	b, _ := json.Marshal(sum)
	if strings.Contains(string(b), "HashCanary") {
		t.Errorf("the summary holds a hash: %s", b)
	}

	// The listing: what did not pair, never a hash, mode 0600.
	listing := readListing(t, want.Listing)
	base := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Base(p)
	}
	var joins []string
	for _, l := range listing {
		joins = append(joins, fmt.Sprintf("%s %s:%d %s:%d %s", l.Join, base(l.File), l.Line, base(l.Hashes), l.HashesLine, l.UserID))
	}
	wantJoins := []string{
		"none export.ndjson:3 :0 nohash",
		"ambiguous export.ndjson:4 hashes.ndjson:3 twice",
		"joined export.ndjson:5 hashes.ndjson:6 cost12",
		"unmatched :0 hashes.ndjson:3 auth0|twice",
		"unreadable :0 hashes.ndjson:4 ",
		"unmatched :0 hashes.ndjson:5 auth0|twice",
		"unmatched :0 hashes.ndjson:8 auth0|gone",
	}
	if !slices.Equal(joins, wantJoins) {
		t.Errorf("listing\n%s\nwant\n%s", strings.Join(joins, "\n"), strings.Join(wantJoins, "\n"))
	}
	// The one of another cost is flagged, record by record.
	if i := slices.IndexFunc(listing, func(l hashes.Listed) bool { return l.UserID == "cost12" }); i < 0 ||
		listing[i].Reason != "the hash of line 6 of --hashes "+hf+" is bcrypt of cost 12: sent as custom_password_hash with algorithm bcrypt, which Auth0 takes at any cost and as $2y$ (password_hash: $2a$ or $2b$ at cost 10 only)" {
		t.Errorf("listing of the cost-12 hash: %+v", listing)
	}
	if fi, err := os.Stat(want.Listing); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("listing mode %v, %v", fi.Mode().Perm(), err)
	}
	noHashIn(t, spec.ReportPath)
	noHashIn(t, want.Listing)
}

func equalHashSummary(a, b HashSummary) bool {
	return a.File == b.File && a.By == b.By && a.Counts == b.Counts && a.Withheld == b.Withheld &&
		a.Listing == b.Listing && a.Complete == b.Complete && len(a.Listed) == len(b.Listed)
}

// A sync never sends a hash to a user who exists: a user its state
// confirmed goes without it (and is updated, where Auth0 would fail an
// update that carries one); a user the state did not know but the tenant
// has fails once with Auth0's message, is remembered as existing, and is
// updated without its hash the next night. Whether --hashes is given does
// not change what the state calls unchanged.
func TestSyncNeverResendsAHash(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{RefuseHashUpsert: true})
	// Already in the tenant (an earlier migration, a day ago), unknown to
	// the state. A user made now would be this run's to a run that dates
	// its start by the tenant's clock to the second (the Date header), and
	// its hash refusal would then rightly be claimed as this run's insert.
	before := time.Now().Add(-24 * time.Hour).UTC()
	e.sb.AddUser(management.User{Email: "old@example.com", GivenName: "Old", CreatedAt: &before, UpdatedAt: &before}, syncConn)
	hf := writeLines(t, filepath.Join(e.dir, "hashes.ndjson"),
		hashLine("new1", "new@example.com", bcrypt10("new"), false, false),
		hashLine("old1", "old@example.com", bcrypt10("old"), false, false))
	csv := func(newName, oldName string) string {
		e.runs++
		return writeLines(t, filepath.Join(e.dir, fmt.Sprintf("users-%d.csv", e.runs)),
			"user_id,email,given_name", "new1,new@example.com,"+newName, "old1,old@example.com,"+oldName)
	}
	withHashes := func(s *Spec) { s.Hashes = hf }
	user := func(email string) sandbox.SandboxUser {
		for _, u := range e.sb.Users() {
			if u.Email == email {
				return u
			}
		}
		t.Fatalf("%s is not in the tenant", email)
		return sandbox.SandboxUser{}
	}

	// Night 1: the new user is imported with its hash; the existing one
	// is refused by the tenant for the hash, and remembered.
	r := e.sync(csv("New", "Old2"), withHashes)
	if !incomplete(r.err) {
		t.Fatalf("night 1: %v", r.err)
	}
	f := finals(t, r.report)
	if f["new@example.com"].Status != report.Imported || f["old@example.com"].Status != report.Failed ||
		!strings.Contains(f["old@example.com"].Reason, "already has password hash defined") {
		t.Fatalf("night 1: %+v", f)
	}
	if fp := user("new@example.com").PasswordHashSHA256; fp != fingerprint(bcrypt10("new")) {
		t.Errorf("night 1: new user's hash %.12s", fp)
	}

	// Night 2, same input and hashes: the new user is unchanged (its
	// joined hash is not part of what the state compares); the existing
	// one is updated without its hash.
	r = e.sync(csv("New", "Old2"), withHashes)
	if r.err != nil {
		t.Fatalf("night 2: %v", r.err)
	}
	f = finals(t, r.report)
	if f["new@example.com"].Code != CodeUnchanged || f["old@example.com"].Status != report.Imported {
		t.Fatalf("night 2: %+v", f)
	}
	if h := r.sum.Hashes; h == nil || h.Withheld != 1 || h.Joined != 2 {
		t.Errorf("night 2 summary: %+v", h)
	}
	if u := user("old@example.com"); u.GivenName != "Old2" || u.PasswordHashSHA256 != "" {
		t.Errorf("night 2: old user %+v", u)
	}

	// Night 3: the new user changed: updated, its hash not sent again (the
	// sandbox fails an update that carries one), the first one kept.
	r = e.sync(csv("Renamed", "Old2"), withHashes)
	if r.err != nil {
		t.Fatalf("night 3: %v", r.err)
	}
	if f = finals(t, r.report); f["new@example.com"].Status != report.Imported || f["old@example.com"].Code != CodeUnchanged {
		t.Fatalf("night 3: %+v", f)
	}
	if u := user("new@example.com"); u.GivenName != "Renamed" || u.PasswordHashSHA256 != fingerprint(bcrypt10("new")) {
		t.Errorf("night 3: new user %+v", u)
	}

	// Night 4 without --hashes: nothing changed.
	r = e.sync(csv("Renamed", "Old2"))
	if r.err != nil || r.sum.Counts[string(report.Skipped)] != 2 || r.sum.Hashes != nil {
		t.Fatalf("night 4: %v %+v", r.err, r.sum)
	}
	for _, p := range []string{r.report, e.state} {
		noHashIn(t, p)
	}
}

// --hashes is refused, before anything is read or sent, where a joined
// hash could reach an update or could not be sent at all.
func TestHashesRefused(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	in := e.input(syncUser{email: "a@example.com", given: "A"})
	hf := writeLines(t, filepath.Join(e.dir, "hashes.ndjson"), hashLine("a", "a@example.com", bcrypt10("a"), false, false))
	fifo := filepath.Join(e.dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, tc := range []struct {
		name string
		spec func(*Spec)
		want string
	}{
		{"import --upsert", func(s *Spec) { s.Upsert = true }, "--hashes cannot go with --upsert"},
		{"create", func(s *Spec) { s.Mode = ModeCreate; s.RandomPassword = true }, "--hashes: create sends each user with POST /users, which takes no password hash"},
		{"sync --mode create", func(s *Spec) { s.Mode, s.SyncMode, s.State = ModeSync, "create", e.state }, "--hashes: sync --mode create sends each user with POST /users"},
		{"--hashes-by email alone", func(s *Spec) { s.Hashes, s.HashesBy = "", "email" }, "--hashes-by needs --hashes FILE"},
		{"--hashes-by other", func(s *Spec) { s.HashesBy = "name" }, "--hashes-by must be id or email"},
		{"a pipe", func(s *Spec) { s.Hashes = fifo }, "is a pipe: a run reads its hashes again when it is resumed"},
		{"missing", func(s *Spec) { s.Hashes = filepath.Join(e.dir, "nope") }, "--hashes: stat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{Mode: ModeImport, Connection: syncConn, Inputs: []string{in}, ReportPath: filepath.Join(e.dir, "refused.ndjson")}
			spec.Settings = Defaults()
			spec.Hashes = hf
			tc.spec(&spec)
			sum, err := Run(context.Background(), e.env(), spec)
			var ue *UsageError
			if sum != nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a usage error with %q", err, tc.want)
			}
			if _, err := os.Stat(spec.ReportPath); err == nil {
				t.Error("a report was written")
			}
		})
	}
	if n := len(e.sb.Users()); n != 0 {
		t.Errorf("%d users sent", n)
	}
}

// A resume joins the same hashes the same way, or refuses.
func TestResumeJoinsTheSameHashes(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	in := e.input(syncUser{email: "a@example.com", given: "A"})
	hf := writeLines(t, filepath.Join(e.dir, "hashes.ndjson"), hashLine("a", "a@example.com", bcrypt10("a"), false, false))
	spec := Spec{Mode: ModeImport, Connection: syncConn, Inputs: []string{in}, ReportPath: filepath.Join(e.dir, "run.ndjson")}
	spec.Settings = Defaults()
	spec.Hashes = hf
	if _, err := Run(context.Background(), e.env(), spec); err != nil {
		t.Fatal(err)
	}
	resume := func(edit func(*Spec)) error {
		s, err := Recorded(spec.ReportPath, ModeImport)
		if err != nil {
			t.Fatal(err)
		}
		edit(&s)
		_, err = Run(context.Background(), e.env(), s)
		return err
	}
	if err := resume(func(*Spec) {}); err != nil {
		t.Errorf("resume with the recorded hashes: %v", err)
	}
	if err := resume(func(s *Spec) { s.Hashes = "" }); err == nil || !strings.Contains(err.Error(), `the run joined --hashes "`+hf+`" (by id), not no --hashes`) {
		t.Errorf("resume without --hashes: %v", err)
	}
	if err := resume(func(s *Spec) { s.HashesBy = "email" }); err == nil || !strings.Contains(err.Error(), "(by id), not --hashes") {
		t.Errorf("resume by email: %v", err)
	}
	writeLines(t, hf, hashLine("a", "a@example.com", bcrypt10("b"), false, false))
	if err := resume(func(*Spec) {}); err == nil || !strings.Contains(err.Error(), "changed since the run") {
		t.Errorf("resume with another hash file: %v", err)
	}
}

// validate --hashes counts the join's outcomes and lists what did not
// pair, before anything is sent; by email when asked.
func TestValidateHashes(t *testing.T) {
	dir := t.TempDir()
	in := writeLines(t, filepath.Join(dir, "users.csv"), "email,given_name", "a@example.com,A", "b@example.com,B", "c@example.com,C")
	hf := writeLines(t, filepath.Join(dir, "hashes.ndjson"),
		hashLine("1", "A@example.com", bcrypt10("a"), false, true),
		hashLine("2", "b@example.com", bcrypt10("b1"), false, false),
		hashLine("3", "b@example.com", bcrypt10("b2"), false, false),
		hashLine("4", "z@example.com", bcrypt10("z"), false, false))
	p, err := ValidateAs(context.Background(), Env{}, []string{in}, report.Settings{ChunkBytes: 500000, Hashes: hf, HashesBy: "email"}, input.ModeImport)
	if err != nil {
		t.Fatal(err)
	}
	h := p.Hashes
	if h == nil || h.Joined != 1 || h.None != 1 || h.Ambiguous != 1 || h.Unmatched != 3 || !h.Complete || p.Invalid != 1 {
		t.Fatalf("plan %+v, hashes %+v", p, h)
	}
	var got []string
	for _, l := range h.Listed {
		got = append(got, l.String())
	}
	want := []string{
		in + ":3: ambiguous: lines 2 and 3 of --hashes " + hf + " both have this user's email",
		in + ":4: none (c@example.com)",
		hf + ":2: unmatched (auth0|2 b@example.com)",
		hf + ":3: unmatched (auth0|3 b@example.com)",
		hf + ":4: unmatched (auth0|4 z@example.com)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
