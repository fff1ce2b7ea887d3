package sandbox

import "strings"

// emailIndex finds a connection's users by e-mail without scanning the
// tenant: an import job looks up every user it holds, and a scan made
// settling a job O(users in the tenant) per imported user, which slowed the
// sandbox (and so every poll that settles a job) as it filled up.
//
// It is brought up to date lazily: users appended to the store's list since the last lookup are indexed on the
// next one, so only an e-mail change needs an explicit call (moveEmail).
// Every method is called with s.mu held.
type emailIndex struct {
	indexed int // list[:indexed] are in byKey
	// byKey: the users of a connection with that lower-cased e-mail, in
	// creation order (seeded users may share one; the first one wins).
	byKey map[emailKey][]*storedUser
}

type emailKey struct{ connection, email string }

func keyOf(connection, email string) emailKey {
	return emailKey{connection, strings.ToLower(email)}
}

// emails returns f's index, up to date with f.list. Callers hold s.mu.
func (f *fullStore) emails() *emailIndex {
	ix := &f.index
	if ix.byKey == nil {
		ix.byKey = map[emailKey][]*storedUser{}
	}
	for _, su := range f.list[ix.indexed:] {
		k := keyOf(su.connection, su.user.Email)
		ix.byKey[k] = append(ix.byKey[k], su)
	}
	ix.indexed = len(f.list)
	return ix
}

// find returns the first user (in creation order) of connection whose
// e-mail matches, ignoring case.
func (ix *emailIndex) find(connection, email string) *storedUser {
	if list := ix.byKey[keyOf(connection, email)]; len(list) > 0 {
		return list[0]
	}
	return nil
}

// moveEmail re-files su, whose e-mail was old, under its current e-mail.
func (f *fullStore) moveEmail(su *storedUser, old string) {
	ix := f.emails()
	from, to := keyOf(su.connection, old), keyOf(su.connection, su.user.Email)
	if from == to {
		return
	}
	list := ix.byKey[from]
	for i, other := range list {
		if other == su {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(ix.byKey, from)
	} else {
		ix.byKey[from] = list
	}
	// patchUser refuses an e-mail another user of the connection has, so
	// su is alone under its new key and order does not arise.
	ix.byKey[to] = append(ix.byKey[to], su)
}
