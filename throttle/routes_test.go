package throttle

import (
	"net/http"
	"testing"
)

func TestRouteKey(t *testing.T) {
	for _, tt := range []struct {
		method, url string
		key         string
		group       group
	}{
		{"POST", "https://t.test/api/v2/users", "POST /api/v2/users", groupUsersWrite},
		{"PATCH", "https://t.test/api/v2/users/auth0%7C63d16b633416c557f7d02a3c", "PATCH /api/v2/users/{id}", groupUsersWrite},
		{"DELETE", "https://t.test/api/v2/users/auth0|abc", "DELETE /api/v2/users/{id}", groupUsersWrite},
		{"GET", "https://t.test/api/v2/users?q=x", "GET /api/v2/users", groupUsersRead},
		{"GET", "https://t.test/api/v2/users/auth0|abc/roles", "GET /api/v2/users/{id}/roles", groupUsersRead},
		{"GET", "https://t.test/api/v2/users-by-email?email=a%40b.c", "GET /api/v2/users-by-email", groupUsersRead},
		{"POST", "https://t.test/api/v2/users/auth0|abc/roles", "POST /api/v2/users/{id}/roles", groupOther},
		{"GET", "https://t.test/api/v2/connections?name=db", "GET /api/v2/connections", groupConnectionsRead},
		{"GET", "https://t.test/api/v2/connections/con_ftSSLHb0O7rcUGmF", "GET /api/v2/connections/{id}", groupConnectionsRead},
		{"POST", "https://t.test/api/v2/jobs/users-imports", "POST /api/v2/jobs/users-imports", groupOther},
		{"POST", "https://t.test/api/v2/jobs/verification-email", "POST /api/v2/jobs/verification-email", groupOther},
		{"GET", "https://t.test/api/v2/jobs/job_6nNLiwFZksN0YmRR", "GET /api/v2/jobs/{id}", groupOther},
		{"GET", "https://t.test/api/v2/jobs/job_6nNLiwFZksN0YmRR/errors", "GET /api/v2/jobs/{id}/errors", groupOther},
		{"POST", "https://t.test/api/v2/tickets/password-change", "POST /api/v2/tickets/password-change", groupOther},
		{"POST", "https://t.test/api/v2/roles/rol_abc/users", "POST /api/v2/roles/{id}/users", groupOther},
		{"GET", "https://t.test/api/v2/organizations/name/acme", "GET /api/v2/organizations/name/{name}", groupOrgsReadByName},
		{"POST", "https://t.test/api/v2/organizations", "POST /api/v2/organizations", groupOrgsWrite},
		{"GET", "https://t.test/api/v2/organizations/org_x", "GET /api/v2/organizations/{id}", groupOrgsRead},
		{"POST", "https://t.test/api/v2/organizations/org_x/members", "POST /api/v2/organizations/{id}/members", groupOrgMembersWrite},
		{"GET", "https://t.test/api/v2/organizations/org_x/members", "GET /api/v2/organizations/{id}/members", groupOrgMembersRead},
		{"POST", "https://t.test/api/v2/organizations/org_x/members/auth0|u/roles", "POST /api/v2/organizations/{id}/members/{id}/roles", groupOrgMemberRolesWr},
		{"", "https://t.test/api/v2/roles", "GET /api/v2/roles", groupOther},
		{"POST", "https://t.test/oauth/token", "POST /oauth/token", "POST /oauth/token"},
	} {
		req, err := http.NewRequest(tt.method, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Method = tt.method
		key := routeKey(req)
		method, path, _ := cutRoute(key)
		if key != tt.key || groupOf(method, path) != tt.group {
			t.Errorf("%s %s: route %q group %q, want %q %q", tt.method, tt.url, key, groupOf(method, path), tt.key, tt.group)
		}
	}
}

// Paths the rules cannot template must not grow the route table without
// bound.
func TestRouteTableIsBounded(t *testing.T) {
	b := newBuckets(DefaultRate)
	for i := range 3 * maxRoutes {
		b.route("GET /api/v2/things/" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)))
	}
	if len(b.routes) > maxRoutes+1 {
		t.Errorf("%d routes, want at most %d", len(b.routes), maxRoutes+1)
	}
}
