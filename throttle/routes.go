package throttle

import (
	"net/http"
	"net/url"
	"strings"
)

// A route is a request's rate-limit identity: its method and path template
// ("PATCH /api/v2/users/{id}"). Auth0 keeps a bucket per group of routes on
// some plans, so the pacer keeps its mirrors per route group (buckets.go).

// maxRoutes bounds the route table: paths the template rules do not
// recognise could otherwise each make a route.
const maxRoutes = 256

// routeKey names the route of req.
func routeKey(req *http.Request) string {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	return method + " " + Route(req.URL)
}

// Route is u's path template (pathTemplate), so that a log line or a
// progress line names the endpoint without a user's id, and all requests
// to one endpoint read alike: /api/v2/jobs/job_9fj3/errors →
// /api/v2/jobs/{id}/errors.
func Route(u *url.URL) string {
	if u == nil {
		return ""
	}
	return pathTemplate(u.Path)
}

// cutRoute splits a route key into its method and path template.
func cutRoute(key string) (method, template string, ok bool) {
	return strings.Cut(key, " ")
}

// pathTemplate replaces the identifiers in a path by {id} (and an
// organization's name by {name}). Auth0's fixed path segments are lower-case
// words joined by hyphens (users-by-email, users-imports), its identifiers
// never are: they carry a prefix and an underscore (con_…, job_…, rol_…,
// org_…) or a provider and a bar (auth0|…), or digits.
func pathTemplate(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		switch {
		case s == "":
		case i >= 2 && segs[i-1] == "name" && segs[i-2] == "organizations":
			segs[i] = "{name}"
		case !fixedSegment(s):
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

func fixedSegment(s string) bool {
	if len(s) > 1 && s[0] == 'v' && strings.Trim(s[1:], "0123456789") == "" {
		return true // an API version: v2
	}
	if s[0] < 'a' || s[0] > 'z' {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz-") == ""
}

// group is a set of routes that share a bucket on every plan: one of
// Auth0's published endpoint groups (plans.go), or, for a path outside the
// Management API, the route itself.
type group string

// Auth0's published Management API groups (auth0-facts.md, "Rate limits").
// On Free and Enterprise every group is in the one global bucket; on
// Essentials/Professional each has its own.
const (
	groupUsersWrite       group = "users write"
	groupUsersRead        group = "users read"
	groupConnectionsRead  group = "connections read"
	groupOther            group = "all other endpoints"
	groupOrgsReadByName   group = "organizations read by name"
	groupOrgsRead         group = "organizations read"
	groupOrgsWrite        group = "organizations write"
	groupOrgMembersRead   group = "organization members read"
	groupOrgMembersWrite  group = "organization members write"
	groupOrgMemberRolesWr group = "organization member roles write"
)

// basic reports whether g is one of the four groups every plan table has;
// the organization groups have buckets of their own on Enterprise too.
func (g group) basic() bool {
	switch g {
	case groupUsersWrite, groupUsersRead, groupConnectionsRead, groupOther:
		return true
	}
	return false
}

// groupOf is the published group of a route (method and template).
func groupOf(method, template string) group {
	const api = "/api/v2/"
	rest, ok := strings.CutPrefix(template, api)
	if !ok {
		return group(method + " " + template)
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	read := method == http.MethodGet || method == http.MethodHead
	switch segs[0] {
	case "users":
		switch {
		case read:
			return groupUsersRead
		case len(segs) == 1 && method == http.MethodPost,
			len(segs) == 2 && (method == http.MethodPatch || method == http.MethodDelete):
			return groupUsersWrite
		}
	case "users-by-email":
		if read {
			return groupUsersRead
		}
	case "connections":
		if read {
			return groupConnectionsRead
		}
	case "organizations":
		return orgGroup(segs, read)
	}
	return groupOther
}

// orgGroup sorts /organizations/… routes into Auth0's organization groups.
func orgGroup(segs []string, read bool) group {
	switch {
	case len(segs) >= 2 && segs[1] == "name":
		return groupOrgsReadByName
	case len(segs) >= 5 && segs[2] == "members" && segs[4] == "roles":
		if read {
			return groupOrgMembersRead
		}
		return groupOrgMemberRolesWr
	case len(segs) >= 3 && segs[2] == "members":
		if read {
			return groupOrgMembersRead
		}
		return groupOrgMembersWrite
	case read:
		return groupOrgsRead
	}
	return groupOrgsWrite
}
