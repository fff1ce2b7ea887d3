package sandbox

import (
	"encoding/hex"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/a0bulk/a0bulk/management"
)

// leanStore (Config.Lean) keeps, per user, only what imports, creates and
// the lookups that settle them need: user_id, lower-cased e-mail,
// connection, created_at and updated_at, email_verified, blocked, whether
// a password was given, whether POST /users sent a verification email, and
// the username when there is one. Profile attributes, metadata and extra
// identities are dropped: a later read returns the user with only those
// fields (identities rebuilt from user_id and connection).
//
// About 80–100 bytes a user instead of ~2.2 KB: a fixed 40-byte record, the
// e-mail's bytes (and the user_id's when it is not auth0| plus 24 hex
// digits, which the record holds as 12 bytes), and two hash tables of
// 4-byte slots (e-mail and user_id) at most half full. Records, text and
// tables hold no pointers and are mapped outside the Go heap (leanmem.go),
// so neither the garbage collector's headroom nor its marking grows with
// the tenant.
type leanStore struct {
	mem   *regions
	seed  maphash.Seed
	conns []string // connection names by number

	pages [][]leanRec // recsPerPage records each
	n     int
	text  [][]byte // textPage bytes each, but for a long string's own page
	tail  int      // bytes used in the last text page
	long  []string // strings of textLenMax bytes or more

	emails table // (connection, e-mail) → record
	ids    table // user_id → record

	// Usernames are rare in imports: kept on the heap, by record, with
	// the records under each (connection, lower-cased username) in
	// creation order (an entry whose username changed since is skipped).
	usernames map[uint32]string
	byName    map[emailKey][]uint32
}

// leanRec is one user. It must hold no pointers (leanmem.go).
type leanRec struct {
	created, updated int64 // Unix milliseconds; noTime when unset
	email            textRef
	id               [12]byte // flagHexID: the 24 hex digits as bytes; else a textRef in the first 8
	conn             uint16
	flags            uint8
}

const (
	flagHexID uint8 = 1 << iota
	flagPassword
	flagImplicit
	flagVerifiedSet
	flagVerified
	flagBlockedSet
	flagBlocked
	flagUsername
)

const (
	recsPerPage = 1 << 14
	textPage    = 1 << 20
	textLenMax  = 1<<20 - 1 // a longer string goes to long
	noTime      = math.MinInt64
	hexIDPrefix = "auth0|"
)

// textRef locates a string: page (24 bits), offset (20), length (20); a
// length of textLenMax means long[offset].
type textRef uint64

func newLeanStore() *leanStore {
	st := &leanStore{mem: newRegions(), seed: maphash.MakeSeed(),
		usernames: map[uint32]string{}, byName: map[emailKey][]uint32{}}
	runtime.AddCleanup(st, func(r *regions) { r.release() }, st.mem)
	return st
}

func (st *leanStore) rec(i uint32) *leanRec { return &st.pages[i/recsPerPage][i%recsPerPage] }

func (st *leanStore) connNumber(name string) uint16 {
	if i := slices.Index(st.conns, name); i >= 0 {
		return uint16(i)
	}
	st.conns = append(st.conns, name)
	return uint16(len(st.conns) - 1)
}

// putText stores s and returns where.
func (st *leanStore) putText(s string) textRef {
	if len(s) >= textLenMax {
		st.long = append(st.long, s)
		return textRef(uint64(len(st.long)-1)<<20 | textLenMax)
	}
	if len(st.text) == 0 || st.tail+len(s) > len(st.text[len(st.text)-1]) {
		st.text = append(st.text, st.mem.alloc(textPage))
		st.tail = 0
	}
	page := len(st.text) - 1
	copy(st.text[page][st.tail:], s)
	ref := textRef(uint64(page)<<40 | uint64(st.tail)<<20 | uint64(len(s)))
	st.tail += len(s)
	return ref
}

// view is the string at ref, sharing the store's memory: never let it
// outlive a call (copy what a caller keeps).
func (st *leanStore) view(ref textRef) string {
	n, off, page := int(ref&textLenMax), int(ref>>20&textLenMax), int(ref>>40)
	if n == textLenMax {
		return st.long[off]
	}
	if n == 0 {
		return ""
	}
	return unsafe.String(&st.text[page][off], n)
}

func (st *leanStore) hashEmail(conn uint16, email string) uint64 {
	return maphash.String(st.seed, email) ^ (uint64(conn)+1)*0x9e3779b97f4a7c15
}

// hexID: id is "auth0|" and 24 lower-case hex digits, as the tenant makes
// them; the record holds those digits as 12 bytes.
func hexID(id string) (b [12]byte, ok bool) {
	digits, found := strings.CutPrefix(id, hexIDPrefix)
	if !found || len(digits) != 24 || strings.ToLower(digits) != digits {
		return b, false
	}
	_, err := hex.Decode(b[:], []byte(digits))
	return b, err == nil
}

// idView is r's user_id: in buf when it is a hex one.
func (st *leanStore) idView(r *leanRec, buf *[30]byte) string {
	if r.flags&flagHexID == 0 {
		return st.view(textRef(*(*uint64)(unsafe.Pointer(&r.id))))
	}
	copy(buf[:], hexIDPrefix)
	hex.Encode(buf[len(hexIDPrefix):], r.id[:])
	return unsafe.String(&buf[0], len(buf))
}

func (st *leanStore) count() int { return st.n }

func (st *leanStore) add(su *storedUser) {
	if st.n%recsPerPage == 0 {
		st.pages = append(st.pages, asRecs(st.mem.alloc(recsPerPage*int(unsafe.Sizeof(leanRec{})))))
	}
	i := uint32(st.n)
	st.n++
	r := st.rec(i)
	if b, ok := hexID(su.user.UserID); ok {
		r.id, r.flags = b, flagHexID
	} else {
		*(*uint64)(unsafe.Pointer(&r.id)) = uint64(st.putText(su.user.UserID))
	}
	r.conn = st.connNumber(su.connection)
	r.created = millis(su.user.CreatedAt)
	r.email = st.putText(strings.ToLower(su.user.Email))
	st.write(i, su)
	st.index(&st.emails, i, st.putEmail)
	st.index(&st.ids, i, st.putID)
	su.ref = i + 1
}

// write copies su's changeable fields into record i: all but user_id,
// connection and e-mail (the caller's, with its index).
func (st *leanStore) write(i uint32, su *storedUser) {
	r := st.rec(i)
	u := &su.user
	r.updated = millis(u.UpdatedAt)
	r.flags &= flagHexID
	r.flags |= flagIf(su.hasPassword, flagPassword) | flagIf(su.implicitVerification, flagImplicit) |
		optFlags(u.EmailVerified, flagVerifiedSet, flagVerified) | optFlags(u.Blocked, flagBlockedSet, flagBlocked)
	if u.Username != "" {
		r.flags |= flagUsername
		if st.usernames[i] != u.Username {
			st.usernames[i] = u.Username
			k := keyOf(su.connection, u.Username)
			// Kept in creation order; the entries of users renamed since
			// are skipped by byUsername.
			list := append(st.byName[k], i)
			slices.Sort(list)
			st.byName[k] = slices.Compact(list)
		}
	} else {
		delete(st.usernames, i)
	}
}

// index files record i in t (put), rebuilding t from every record when it
// is full.
func (st *leanStore) index(t *table, i uint32, put func(t *table, rec uint32)) {
	if !t.full() {
		put(t, i)
		return
	}
	t.reset(st.n, st.mem)
	for j := range uint32(st.n) {
		put(t, j)
	}
}

func (st *leanStore) putEmail(t *table, i uint32) {
	r := st.rec(i)
	t.put(st.hashEmail(r.conn, st.view(r.email)), i, nil)
}

// putID replaces an entry of the same user_id: like a map, the last user
// added under an id is the one found (only seeded users can share one).
func (st *leanStore) putID(t *table, i uint32) {
	var buf, other [30]byte
	id := st.idView(st.rec(i), &buf)
	t.put(maphash.String(st.seed, id), i, func(o uint32) bool { return st.idView(st.rec(o), &other) == id })
}

func (st *leanStore) byID(id string) *storedUser {
	var buf [30]byte
	i, ok := st.ids.find(maphash.String(st.seed, id), func(o uint32) bool { return st.idView(st.rec(o), &buf) == id })
	if !ok {
		return nil
	}
	return st.decode(i)
}

func (st *leanStore) findEmail(conn uint16, email string) (uint32, bool) {
	return st.emails.find(st.hashEmail(conn, email), func(o uint32) bool {
		r := st.rec(o)
		return r.conn == conn && st.view(r.email) == email
	})
}

func (st *leanStore) byEmail(connection, email string) *storedUser {
	conn := slices.Index(st.conns, connection)
	if conn < 0 {
		return nil
	}
	if i, ok := st.findEmail(uint16(conn), strings.ToLower(email)); ok {
		return st.decode(i)
	}
	return nil
}

// withEmail: stored e-mails are lower-cased, so only a lower-cased query
// matches; every user under it in each connection, in creation order.
func (st *leanStore) withEmail(email string) []*storedUser {
	if strings.ToLower(email) != email {
		return nil
	}
	var recs []uint32
	for conn := range st.conns {
		c := uint16(conn)
		st.emails.find(st.hashEmail(c, email), func(o uint32) bool {
			if r := st.rec(o); r.conn == c && st.view(r.email) == email {
				recs = append(recs, o)
			}
			return false // visit them all
		})
	}
	slices.Sort(recs)
	out := make([]*storedUser, len(recs))
	for k, i := range recs {
		out[k] = st.decode(i)
	}
	return out
}

func (st *leanStore) byUsername(connection, username string) *storedUser {
	for _, i := range st.byName[keyOf(connection, username)] {
		if r := st.rec(i); st.conns[r.conn] == connection && strings.EqualFold(st.usernames[i], username) {
			return st.decode(i)
		}
	}
	return nil
}

func (st *leanStore) save(su *storedUser, _ string) {
	i := su.ref - 1
	r := st.rec(i)
	if email := strings.ToLower(su.user.Email); email != st.view(r.email) {
		st.emails.remove(st.hashEmail(r.conn, st.view(r.email)), i)
		r.email = st.putText(email) // the old bytes stay, unused: e-mails rarely change
		st.index(&st.emails, i, st.putEmail)
	}
	st.write(i, su)
}

func (st *leanStore) each(from int, f func(*storedUser) bool) {
	for i := uint32(min(from, st.n)); i < uint32(st.n); i++ {
		if !f(st.decode(i)) {
			return
		}
	}
}

// decode rebuilds record i as a user, its strings copied out of the store.
func (st *leanStore) decode(i uint32) *storedUser {
	r := st.rec(i)
	var buf [30]byte
	id := strings.Clone(st.idView(r, &buf))
	conn := st.conns[r.conn]
	u := management.User{UserID: id, Email: strings.Clone(st.view(r.email)),
		EmailVerified: optBool(r.flags, flagVerifiedSet, flagVerified), Blocked: optBool(r.flags, flagBlockedSet, flagBlocked),
		CreatedAt: fromMillis(r.created), UpdatedAt: fromMillis(r.updated),
		Identities: []management.Identity{identityFor(id, conn)}}
	if r.flags&flagUsername != 0 {
		u.Username = st.usernames[i]
	}
	return &storedUser{user: u, connection: conn, hasPassword: r.flags&flagPassword != 0,
		implicitVerification: r.flags&flagImplicit != 0, ref: i + 1}
}

// footprint is the bytes the store holds (records, text, tables), for the
// bytes-per-user figure; the heap's username maps are not counted.
func (st *leanStore) footprint() int {
	n := len(st.emails.mem) + len(st.ids.mem) + len(st.pages)*recsPerPage*int(unsafe.Sizeof(leanRec{}))
	for _, p := range st.text {
		n += len(p)
	}
	return n
}

func millis(t *time.Time) int64 {
	if t == nil {
		return noTime
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) *time.Time {
	if ms == noTime {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

func flagIf(b bool, f uint8) uint8 {
	if b {
		return f
	}
	return 0
}

func optFlags(b *bool, set, val uint8) uint8 {
	if b == nil {
		return 0
	}
	return set | flagIf(*b, val)
}

func optBool(flags, set, val uint8) *bool {
	if flags&set == 0 {
		return nil
	}
	return boolPtr(flags&val != 0)
}
