package preflight

import (
	"fmt"
	"slices"
	"strings"
)

// ScopeNeed is one Management API scope a command uses, and why. Auth0
// accepts Scope or any one of Also (its reference lists alternatives: the
// job reads take create:users or read:users). Optional scopes are needed
// only with some flags: in `check --for` tables, missing them is a warning.
type ScopeNeed struct {
	Scope    string
	Also     []string
	Why      string
	Optional bool
}

// met reports whether granted holds Scope or one of its alternatives.
func (n ScopeNeed) met(granted []string) bool {
	return slices.Contains(granted, n.Scope) || slices.ContainsFunc(n.Also, func(s string) bool { return slices.Contains(granted, s) })
}

// name is the need as an operator reads it: "read:users or create:users".
func (n ScopeNeed) name() string {
	return strings.Join(append([]string{n.Scope}, n.Also...), " or ")
}

// Commands are the commands whose scopes can be checked (`check --for`).
var Commands = []string{"import", "create", "verify", "sync", "jobs", "export"}

// Use is what a run will do, as far as it decides which endpoints it calls:
// the command and the flags that add endpoints.
type Use struct {
	Command     string // one of Commands
	SyncMode    string // sync: "import" (the default) or "create"
	Upsert      bool   // create: existing users are updated (PATCH /users/{id})
	VerifyEmail bool   // create: verification emails (POST /jobs/verification-email)
}

// Why each scope is needed, by what calls it (auth0-facts.md, "Scopes per
// endpoint"; Auth0 Management API reference, docs-v2 jobs/get-a-job and
// jobs/get-job-error-details: create:users or read:users).
var (
	importJobs    = ScopeNeed{Scope: "create:users", Why: "POST /jobs/users-imports, and reading the jobs back"}
	createUsers   = ScopeNeed{Scope: "create:users", Why: "POST /users"}
	readConn      = ScopeNeed{Scope: "read:connections", Why: "looking up the connection by name"}
	importLookups = ScopeNeed{Scope: "read:users", Why: "looking users up by email when a job's answer was lost or a user already exists"}
	createLookups = ScopeNeed{Scope: "read:users", Why: "looking up existing users by email: conflicts, lost answers, resume"}
	patchUsers    = ScopeNeed{Scope: "update:users", Why: "updating existing users (PATCH /users/{id})"}
	verifyEmails  = ScopeNeed{Scope: "update:users", Why: "POST /jobs/verification-email"}
	verifyLookups = ScopeNeed{Scope: "read:users", Why: "looking users up by email and reading verification jobs back"}
	readJobs      = ScopeNeed{Scope: "read:users", Also: []string{"create:users"}, Why: "GET /jobs/{id} and /jobs/{id}/errors"}
	exportJobs    = ScopeNeed{Scope: "read:users", Why: "POST /jobs/users-exports, and reading the job back"}
)

// Needs is exactly what a run of u calls, required scopes only: nil for an
// unknown command. Job reads are not listed where the command already needs
// create:users or read:users, which each grant them.
func Needs(u Use) []ScopeNeed {
	switch u.Command {
	case "import":
		return []ScopeNeed{importJobs, readConn, importLookups}
	case "create":
		needs := []ScopeNeed{createUsers, readConn, createLookups}
		switch {
		case u.Upsert && u.VerifyEmail:
			needs = append(needs, ScopeNeed{Scope: "update:users", Why: "--upsert (PATCH /users/{id}) and --verify-email (POST /jobs/verification-email)"})
		case u.Upsert:
			needs = append(needs, patchUsers)
		case u.VerifyEmail:
			needs = append(needs, verifyEmails)
		}
		return needs
	case "sync":
		if u.SyncMode == "create" {
			// A sync updates changed users: create mode always upserts.
			return Needs(Use{Command: "create", Upsert: true, VerifyEmail: u.VerifyEmail})
		}
		return Needs(Use{Command: "import"})
	case "verify":
		return []ScopeNeed{verifyEmails, verifyLookups}
	case "jobs":
		return []ScopeNeed{readJobs}
	case "export":
		return []ScopeNeed{exportJobs, readConn}
	}
	return nil
}

// MigrateNeeds are what a migrate calls in each of its tenants: in the
// source an export job and the connection; in the target the import, and
// one export job counting the connection afterwards (the proof).
func MigrateNeeds() (source, target []ScopeNeed) {
	proof := ScopeNeed{Scope: "read:users", Why: "POST /jobs/users-exports, the proof's count of the target connection"}
	return Needs(Use{Command: "export"}), append(Needs(Use{Command: "import"}), proof)
}

// Scopes is the least privilege of command (one of Commands) as `check
// --for` shows it: the scopes every run needs, then, Optional, those only
// some flags (or the usual next step) need; nil for any other command. The
// slice is the caller's.
func Scopes(command string) []ScopeNeed {
	needs := Needs(Use{Command: command})
	var optional []ScopeNeed
	switch command {
	case "import":
		optional = []ScopeNeed{{Scope: "update:users", Why: "sending verification emails afterwards (a0bulk verify)"}}
	case "create":
		optional = []ScopeNeed{{Scope: "update:users", Why: "--upsert (PATCH /users/{id}) and --verify-email"}}
	case "sync":
		optional = []ScopeNeed{{Scope: "update:users", Why: "sync --mode create updating changed users"}}
	}
	for _, o := range optional {
		o.Optional = true
		needs = append(needs, o)
	}
	return needs
}

// MissingScopes is what granted lacks of needs, each scope once: a need met
// by a scope already named missing is not named again.
func MissingScopes(needs []ScopeNeed, granted []string) []ScopeNeed {
	var missing []ScopeNeed
	var named []string
	for _, n := range needs {
		if n.met(granted) || n.met(named) {
			continue
		}
		missing = append(missing, n)
		named = append(named, n.Scope)
	}
	return missing
}

// usedScopes is every scope any a0bulk command uses.
var usedScopes = []string{"create:users", "read:connections", "read:users", "update:users"}

// scopeVerdict compares granted scopes with what a command needs.
type scopeVerdict struct {
	Missing         []ScopeNeed // required and not granted
	MissingOptional []ScopeNeed
	Unused          []string // granted, but no a0bulk command uses them
}

func judgeScopes(command string, granted []string) scopeVerdict {
	var v scopeVerdict
	var required, optional []ScopeNeed
	for _, n := range Scopes(command) {
		if n.Optional {
			optional = append(optional, n)
		} else {
			required = append(required, n)
		}
	}
	v.Missing = MissingScopes(required, granted)
	v.MissingOptional = MissingScopes(optional, granted)
	for _, g := range granted {
		if !slices.Contains(usedScopes, g) {
			v.Unused = append(v.Unused, g)
		}
	}
	return v
}

// ScopeNames are the scopes to grant for needs: the first of each.
func ScopeNames(needs []ScopeNeed) []string {
	out := make([]string, len(needs))
	for i, n := range needs {
		out[i] = n.Scope
	}
	return out
}

// DescribeNeeds lists needs with their reasons, for an error or a report:
// "create:users (POST /users), read:users (…)".
func DescribeNeeds(needs []ScopeNeed) string {
	parts := make([]string, len(needs))
	for i, n := range needs {
		parts[i] = fmt.Sprintf("%s (%s)", n.name(), n.Why)
	}
	return strings.Join(parts, ", ")
}

// GrantScopesFix says where in the Dashboard scopes are granted to a
// machine-to-machine application; clientID ("" if unknown) names it.
func GrantScopesFix(scopes []string, clientID string) string {
	app := "your application"
	if clientID != "" {
		app = fmt.Sprintf("your application (client id %s)", clientID)
	}
	return fmt.Sprintf("grant %s: Auth0 Dashboard → Applications → APIs → Auth0 Management API → Machine to Machine Applications → %s → expand it, tick the scopes, Update; a new token then carries them",
		strings.Join(scopes, " "), app)
}
