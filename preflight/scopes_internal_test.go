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
		// An unknown command needs nothing; unused scopes are still named.
		{"export", []string{"delete:users"}, nil, nil, []string{"delete:users"}},
	} {
		v := judgeScopes(tc.command, tc.granted)
		if got := scopeNames(v.Missing); !equalOrEmpty(got, tc.missing) {
			t.Errorf("%s %q: missing %q, want %q", tc.command, tc.granted, got, tc.missing)
		}
		if got := scopeNames(v.MissingOptional); !equalOrEmpty(got, tc.optional) {
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
	for _, needs := range commandScopes {
		for _, n := range needs {
			if !slices.Contains(fromTables, n.Scope) {
				fromTables = append(fromTables, n.Scope)
			}
		}
	}
	slices.Sort(fromTables)
	used := slices.Sorted(slices.Values(usedScopes))
	if !reflect.DeepEqual(used, fromTables) {
		t.Errorf("usedScopes %q, the tables use %q", used, fromTables)
	}
	if len(commandScopes) != len(Commands) {
		t.Errorf("scope tables for %d commands, Commands has %d", len(commandScopes), len(Commands))
	}
}

func TestDescribeNeeds(t *testing.T) {
	got := describeNeeds(commandScopes["verify"])
	want := "update:users (POST /jobs/verification-email), read:users (looking users up by email and reading verification jobs back)"
	if got != want {
		t.Errorf("describeNeeds = %q, want %q", got, want)
	}
}
