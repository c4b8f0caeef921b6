package sqlitestore

import (
	"fmt"
	"regexp"
	"time"
)

type options struct {
	table         string
	sweepInterval time.Duration
	sweepBatch    int
	createTable   bool
}

// defaultOptions holds every default of the package.
func defaultOptions() options {
	return options{
		table:         "sessions",
		sweepInterval: 5 * time.Minute,
		sweepBatch:    500,
		createTable:   true,
	}
}

// Option configures a Store; pass it to New.
type Option func(*options)

// WithTable sets the table that holds the records. The default is
// "sessions". The name is an identifier of at most 48 ASCII letters,
// digits and underscores (room for the index's name, which adds a suffix);
// New rejects anything else.
func WithTable(name string) Option {
	return func(o *options) { o.table = name }
}

// WithSweepInterval sets how often the Store deletes expired records and
// tombstones. The default is five minutes, and a zero d keeps it, as for
// every store of the module: an interval left unset in a configuration
// struct must not turn the sweeper off. A negative d turns the sweeper off,
// for deployments that run Sweep from a job of their own.
//
// Sweeping only frees space: expired rows are never served, since every
// statement checks expiry. A sweep that fails is logged through
// slog.Default and tried again at the next interval.
func WithSweepInterval(d time.Duration) Option {
	return func(o *options) {
		if d != 0 {
			o.sweepInterval = d
		}
	}
}

// WithSweepBatch sets how many rows one sweep statement deletes at most.
// The default is 500. A non-positive n keeps the default.
func WithSweepBatch(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.sweepBatch = n
		}
	}
}

// WithCreateTable sets whether New creates the table and its index when
// they are missing. The default is true. Turn it off when the schema is
// managed by migrations: the DDL is in the package documentation.
func WithCreateTable(create bool) Option {
	return func(o *options) { o.createTable = create }
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,47}$`)

func checkTable(name string) error {
	if !identRE.MatchString(name) {
		return fmt.Errorf("sqlitestore: table name %q is not a plain identifier", name)
	}
	return nil
}
