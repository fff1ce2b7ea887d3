package preflight

import (
	"fmt"
	"slices"
	"strings"
)

// ScopeNeed is one Management API scope a command uses, and why. Optional
// scopes are needed only with some flags: missing them is a warning.
type ScopeNeed struct {
	Scope    string
	Why      string
	Optional bool
}

// Commands are the commands whose scopes can be checked (`check --for`).
var Commands = []string{"import", "create", "verify", "sync"}

// Scopes is the least privilege of command (one of Commands), required
// scopes first; nil for any other command. The slice is the caller's.
func Scopes(command string) []ScopeNeed {
	return slices.Clone(commandScopes[command])
}

// commandScopes is the least privilege of each command, from the endpoints
// it calls (auth0-facts.md). The job endpoints (GET /jobs/{id}, /errors) are
// documented with create:users and read:users; a0bulk asks for read:users,
// which the sandbox enforces and which resume and verify need anyway.
var commandScopes = map[string][]ScopeNeed{
	"import": {
		{Scope: "create:users", Why: "POST /jobs/users-imports"},
		{Scope: "read:connections", Why: "looking up the connection by name"},
		{Scope: "read:users", Why: "reading job status and job errors"},
		{Scope: "update:users", Why: "sending verification emails afterwards (a0bulk verify)", Optional: true},
	},
	"sync": {
		{Scope: "create:users", Why: "importing or creating new and changed users"},
		{Scope: "read:connections", Why: "looking up the connection by name"},
		{Scope: "read:users", Why: "reading jobs and looking users up by email"},
		{Scope: "update:users", Why: "sync --mode create updating changed users", Optional: true},
	},
	"create": {
		{Scope: "create:users", Why: "POST /users"},
		{Scope: "read:connections", Why: "looking up the connection by name"},
		{Scope: "read:users", Why: "looking up existing users by email (conflicts, resume)"},
		{Scope: "update:users", Why: "--upsert (PATCH /users/{id}) and --verify-email", Optional: true},
	},
	"verify": {
		{Scope: "update:users", Why: "POST /jobs/verification-email"},
		{Scope: "read:users", Why: "looking users up by email and reading verification jobs back"},
	},
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
	for _, need := range commandScopes[command] {
		if slices.Contains(granted, need.Scope) {
			continue
		}
		if need.Optional {
			v.MissingOptional = append(v.MissingOptional, need)
		} else {
			v.Missing = append(v.Missing, need)
		}
	}
	for _, g := range granted {
		if !slices.Contains(usedScopes, g) {
			v.Unused = append(v.Unused, g)
		}
	}
	return v
}

func scopeNames(needs []ScopeNeed) []string {
	out := make([]string, len(needs))
	for i, n := range needs {
		out[i] = n.Scope
	}
	return out
}

func describeNeeds(needs []ScopeNeed) string {
	parts := make([]string, len(needs))
	for i, n := range needs {
		parts[i] = fmt.Sprintf("%s (%s)", n.Scope, n.Why)
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
