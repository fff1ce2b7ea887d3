package syncstate

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// countKey, in the meta bucket, is the number of users in usersBucket and
// the transaction that wrote it: see userCount.
var countKey = []byte("users")

// init creates the buckets and reads the user count; a state with no
// trustworthy count (see userCount) is counted once.
func (s *Store) init() error {
	var counted bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		users, err := tx.CreateBucketIfNotExists(usersBucket)
		if err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		n, ok := userCount(meta, tx)
		if !ok {
			n, counted = countUsers(users), true
		}
		s.users = n
		return putUserCount(meta, tx, n)
	})
	if err != nil || !counted || !s.mapped.over() {
		return err
	}
	// Counting paged in the whole bucket: let it go.
	return s.remapLocked()
}

// userCount is the number of users the meta bucket records. It is trusted
// only if it was written by the last committed transaction: every write of
// this store rewrites it, so a state an earlier release wrote (which keeps
// no count, or wrote users after we did) is counted again instead.
func userCount(meta *bolt.Bucket, tx *bolt.Tx) (int, bool) {
	v := meta.Get(countKey)
	if len(v) != 16 || binary.BigEndian.Uint64(v[8:]) != uint64(tx.ID()-1) {
		return 0, false
	}
	return int(binary.BigEndian.Uint64(v)), true
}

// putUserCount records n as written by tx. Call it in every write.
func putUserCount(meta *bolt.Bucket, tx *bolt.Tx, n int) error {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(n))
	binary.BigEndian.PutUint64(v[8:], uint64(tx.ID()))
	return meta.Put(countKey, v)
}

func countUsers(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
