package preflight

import (
	"reflect"
	"slices"
	"testing"
)

func TestJudgeScopes(t *testing.T) {
	for _, tc := range []struct {
		command  string
		granted  []string
		missing  []string
		optional []string
		unused   []string
	}{
		{"import", []string{"create:users", "read:connections", "read:users", "update:users"}, nil, nil, nil},
		{"import", []string{"create:users", "read:connections"}, []string{"read:users"}, []string{"update:users"}, nil},
		{"import", nil, []string{"create:users", "read:connections", "read:users"}, []string{"update:users"}, nil},
		{"create", []string{"create:users", "read:connections", "read:users"}, nil, []string{"update:users"}, nil},
		{"sync", []string{"read:users", "read:connections", "update:users", "delete:users"}, []string{"create:users"}, nil, []string{"delete:users"}},
		{"verify", []string{"update:users", "read:users", "read:connections"}, nil, nil, nil},
		{"verify", []string{"read:users", "read:logs", "delete:users"}, []string{"update:users"}, nil, []string{"read:logs", "delete:users"}},
		// Job reads take read:users or create:users (Auth0's reference).
		{"jobs", []string{"create:users"}, nil, nil, nil},
		{"jobs", []string{"read:users"}, nil, nil, nil},
		{"jobs", []string{"update:users"}, []string{"read:users"}, nil, nil},
		// Exports take read:users (and read:connections for the name).
		{"export", []string{"read:users", "read:connections"}, nil, nil, nil},
		{"export", []string{"create:users", "read:connections"}, []string{"read:users"}, nil, nil},
		// An unknown command needs nothing; unused scopes are still named.
		{"migrate", []string{"delete:users"}, nil, nil, []string{"delete:users"}},
	} {
		v := judgeScopes(tc.command, tc.granted)
		if got := ScopeNames(v.Missing); !equalOrEmpty(got, tc.missing) {
			t.Errorf("%s %q: missing %q, want %q", tc.command, tc.granted, got, tc.missing)
		}
		if got := ScopeNames(v.MissingOptional); !equalOrEmpty(got, tc.optional) {
			t.Errorf("%s %q: missing optional %q, want %q", tc.command, tc.granted, got, tc.optional)
		}
		if !equalOrEmpty(v.Unused, tc.unused) {
			t.Errorf("%s %q: unused %q, want %q", tc.command, tc.granted, v.Unused, tc.unused)
		}
	}
}

func equalOrEmpty(a, b []string) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}

// usedScopes is what "never uses" is judged against: it must be exactly the
// scopes of the tables.
func TestUsedScopesCoverTheTables(t *testing.T) {
	var fromTables []string
	add := func(s string) {
		if !slices.Contains(fromTables, s) {
			fromTables = append(fromTables, s)
		}
	}
	for _, c := range Commands {
		for _, n := range Scopes(c) {
			add(n.Scope)
			for _, a := range n.Also {
				add(a)
			}
		}
	}
	slices.Sort(fromTables)
	used := slices.Sorted(slices.Values(usedScopes))
	if !reflect.DeepEqual(used, fromTables) {
		t.Errorf("usedScopes %q, the tables use %q", used, fromTables)
	}
}

func TestDescribeNeeds(t *testing.T) {
	got := DescribeNeeds(Scopes("verify"))
	want := "update:users (POST /jobs/verification-email), read:users (looking users up by email and reading verification jobs back)"
	if got != want {
		t.Errorf("DescribeNeeds = %q, want %q", got, want)
	}
	if got, want := DescribeNeeds(Scopes("jobs")), "read:users or create:users (GET /jobs/{id} and /jobs/{id}/errors)"; got != want {
		t.Errorf("DescribeNeeds(jobs) = %q, want %q", got, want)
	}
}

// Needs follows the flags that add endpoints, and MissingScopes names each
// scope once.
func TestNeedsAndMissing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		use     Use
		granted []string
		missing []string
	}{
		{"import without read:users (the issue's token)", Use{Command: "import"}, []string{"create:users", "read:connections"}, []string{"read:users"}},
		{"import --upsert needs no PATCH", Use{Command: "import", Upsert: true}, []string{"create:users", "read:connections", "read:users"}, nil},
		{"create needs no update:users", Use{Command: "create"}, []string{"create:users", "read:connections", "read:users"}, nil},
		{"create --upsert", Use{Command: "create", Upsert: true}, []string{"create:users", "read:connections", "read:users"}, []string{"update:users"}},
		{"create --verify-email", Use{Command: "create", VerifyEmail: true}, []string{"create:users", "read:connections", "read:users"}, []string{"update:users"}},
		{"sync import mode", Use{Command: "sync", SyncMode: "import"}, []string{"create:users", "read:connections", "read:users"}, nil},
		{"sync create mode updates", Use{Command: "sync", SyncMode: "create"}, []string{"create:users", "read:connections", "read:users"}, []string{"update:users"}},
		{"verify", Use{Command: "verify"}, []string{"read:users"}, []string{"update:users"}},
		{"nothing granted: each scope once", Use{Command: "create", Upsert: true, VerifyEmail: true}, nil,
			[]string{"create:users", "read:connections", "read:users", "update:users"}},
		{"jobs with create:users", Use{Command: "jobs"}, []string{"create:users"}, nil},
		{"export takes read:users, not create:users", Use{Command: "export"}, []string{"create:users", "read:connections"}, []string{"read:users"}},
		{"export", Use{Command: "export"}, []string{"read:users", "read:connections"}, nil},
		{"an unknown command needs nothing", Use{Command: "migrate"}, nil, nil},
	} {
		got := ScopeNames(MissingScopes(Needs(tc.use), tc.granted))
		if !equalOrEmpty(got, tc.missing) {
			t.Errorf("%s: missing %q, want %q", tc.name, got, tc.missing)
		}
	}
}

// A need met by an alternative another missing need names is not named
// twice: granting read:users covers the job reads too.
func TestMissingScopesNamesAlternativesOnce(t *testing.T) {
	needs := []ScopeNeed{verifyLookups, readJobs}
	if got := ScopeNames(MissingScopes(needs, nil)); !reflect.DeepEqual(got, []string{"read:users"}) {
		t.Errorf("missing %q, want [read:users]", got)
	}
}
