package redisstore

import (
	_ "embed" // the Lua scripts
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessions"
)

// The scripts, one file each under lua/, with what they take and return at
// the top. Every script uses one key, the record's, so each runs on the
// primary that holds it, Redis Cluster included.
var (
	//go:embed lua/write.lua
	writeLua    string
	writeScript = redis.NewScript(writeLua)

	//go:embed lua/remove.lua
	removeLua    string
	removeScript = redis.NewScript(removeLua)

	//go:embed lua/exists.lua
	existsLua    string
	existsScript = redis.NewScript(existsLua)

	//go:embed lua/read.lua
	readLua    string
	readScript = redis.NewScript(readLua)

	allScripts = []*redis.Script{writeScript, removeScript, existsScript, readScript}
)

// The modes of write.lua (its MODE_* constants).
const (
	modeMerge   = "0"
	modeReplace = "1"
	modeCreate  = "2"
)

// The deadline argument of write.lua (its DEADLINE_* constants): the
// deadline the record keeps, or none; anything else is Unix milliseconds.
const (
	deadlineStored = "?"
	deadlineNone   = ""
)

// The results of write.lua (its RESULT_* constants).
const (
	writeOK          = 1
	writeNotFound    = 0
	writeInvalidated = -1
)

// The results of remove.lua and exists.lua (their RESULT_* constants).
const (
	removeRemoved = 1
	removeNotLive = 0
	existsLive    = 1
	existsNone    = 0
)

// writeFirstPair is the position in ARGV (from 1, as Lua counts) of the
// first field write.lua sets: after the mode, the TTL, the deadline and the
// number of fields (its FIRST_PAIR).
const writeFirstPair = 5

const (
	// tombField is the field of a hash that makes it a tombstone (the
	// scripts' TOMB_FIELD). A Change may not set it.
	tombField = "__tomb"
	// deadlineField is the key under which the Manager keeps the end of a
	// session's absolute lifetime, in Unix milliseconds (the scripts'
	// DEADLINE_FIELD; see sessions.Store).
	deadlineField = "__deadline"
)

// writeArgs returns the ARGV of write.lua for ch. The deadline after the
// change is known here when ch sets or drops it, which spares the script a
// read of it. A Create with nothing to set or delete is a touch, which
// never creates a record: it goes as a merge.
func writeArgs(ch sessions.Change, ttl time.Duration) []interface{} {
	mode, deadline := modeMerge, deadlineStored
	switch {
	case ch.Mode == sessions.ModeReplace:
		mode, deadline = modeReplace, deadlineNone
	case ch.Mode == sessions.ModeUpsert && !ch.IsTouch():
		mode = modeCreate
	}
	if v, ok := ch.Set[deadlineField]; ok {
		deadline = string(v)
	} else if ch.Mode != sessions.ModeReplace && slices.Contains(ch.Delete, deadlineField) {
		deadline = deadlineNone
	}
	args := make([]interface{}, 0, writeFirstPair-1+2*len(ch.Set)+len(ch.Delete))
	args = append(args, mode, millis(ttl), deadline, len(ch.Set))
	for k, v := range ch.Set {
		args = append(args, k, v)
	}
	if ch.Mode != sessions.ModeReplace {
		for _, k := range ch.Delete {
			args = append(args, k)
		}
	}
	return args
}

// millis converts ttl to whole milliseconds, rounding up, as the scripts
// take it; a ttl that is not positive gives 0.
func millis(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	return ms
}
