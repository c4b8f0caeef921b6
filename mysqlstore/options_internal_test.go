package mysqlstore

import (
	"testing"
	"time"
)

// TestSweepInterval checks what WithSweepInterval means, the same for every
// store: zero keeps the default of five minutes, a negative interval turns
// the sweeper off, and any other sets it.
func TestSweepInterval(t *testing.T) {
	for _, c := range []struct {
		d, want time.Duration
		on      bool
	}{{0, 5 * time.Minute, true}, {time.Second, time.Second, true}, {-time.Second, -time.Second, false}} {
		o := defaultOptions()
		WithSweepInterval(c.d)(&o)
		if o.sweepInterval != c.want || (o.sweepInterval > 0) != c.on {
			t.Errorf("WithSweepInterval(%v) set the interval to %v, want %v (sweeper on: %v)", c.d, o.sweepInterval, c.want, c.on)
		}
	}
}
