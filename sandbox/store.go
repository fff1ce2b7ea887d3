package sandbox

import (
	"strings"
)

// userStore holds the tenant's users. Two kinds: fullStore (the default)
// keeps every attribute; leanStore (Config.Lean, lean.go) keeps only what
// imports, creates and their lookups need, in about a twentieth of the
// memory, for benchmarks of millions of users.
//
// A *storedUser a lookup returns is the stored user itself (full) or a copy
// decoded from its compact form (lean): whoever changes one calls save, and
// two lookups of one user are compared with sameUser, never by pointer.
// Every method is called with s.mu held.
type userStore interface {
	add(su *storedUser)
	count() int
	byID(id string) *storedUser
	// byEmail: the first user (in creation order) of connection whose
	// e-mail matches, ignoring case (database connections store e-mails
	// lower-cased).
	byEmail(connection, email string) *storedUser
	byUsername(connection, username string) *storedUser
	// withEmail: every user, of any connection, whose stored e-mail is
	// exactly email, in creation order (GET /users-by-email).
	withEmail(email string) []*storedUser
	// save records su, changed since it was looked up; oldEmail is the
	// e-mail it had then.
	save(su *storedUser, oldEmail string)
	// each calls f on every user in creation order, from the from'th
	// (0-based) on, until f returns false.
	each(from int, f func(*storedUser) bool)
}

// sameUser: a and b are the same stored user (user ids are unique in a
// tenant). Either may be nil.
func sameUser(a, b *storedUser) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.user.UserID == b.user.UserID
}

// fullStore keeps every user as given, with an index by e-mail.
type fullStore struct {
	list  []*storedUser
	ids   map[string]*storedUser
	index emailIndex
}

func newFullStore() *fullStore { return &fullStore{ids: map[string]*storedUser{}} }

func (f *fullStore) add(su *storedUser) {
	f.list = append(f.list, su)
	f.ids[su.user.UserID] = su
}

func (f *fullStore) count() int { return len(f.list) }

func (f *fullStore) byID(id string) *storedUser { return f.ids[id] }

// byEmail is an index lookup (index.go): an import job makes one per user.
func (f *fullStore) byEmail(connection, email string) *storedUser {
	return f.emails().find(connection, email)
}

func (f *fullStore) byUsername(connection, username string) *storedUser {
	for _, su := range f.list {
		if su.connection == connection && su.user.Username != "" && strings.EqualFold(su.user.Username, username) {
			return su
		}
	}
	return nil
}

func (f *fullStore) withEmail(email string) []*storedUser {
	var out []*storedUser
	for _, su := range f.list {
		if su.user.Email == email {
			out = append(out, su)
		}
	}
	return out
}

// save: su is the stored user itself; only its place in the index moves.
func (f *fullStore) save(su *storedUser, oldEmail string) { f.moveEmail(su, oldEmail) }

func (f *fullStore) each(from int, fn func(*storedUser) bool) {
	for _, su := range f.list[min(from, len(f.list)):] {
		if !fn(su) {
			return
		}
	}
}
