package sessionstest

import "time"

// FakeClock is the suite's simulated clock, for the tests of package
// sessionstest_test.
type FakeClock = fakeClock

// NewFakeClock returns a FakeClock that reads now until advanced.
func NewFakeClock(now time.Time) *FakeClock { return &fakeClock{now: now} }
