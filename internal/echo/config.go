package echo

import (
	"errors"
	"fmt"
	"time"
)

// Config sets how the echo app answers. The zero value echoes every message at once.
type Config struct {
	// Delay is added before each echo, measured from the moment the event was received.
	Delay time.Duration `json:"delay"`
	// Jitter adds a uniformly random extra delay in [0, Jitter] to each echo.
	Jitter time.Duration `json:"jitter"`
	// DropRate is the probability (0..1) that a message is not echoed at all,
	// to exercise the devices' echo timeouts.
	DropRate float64 `json:"drop_rate"`
	// Seed seeds the random source behind drops and jitter; 0 picks a random seed.
	Seed int64 `json:"seed"`
	// Observer, if set, is called with the execution time (event received →
	// echo published) of every echo, from any goroutine. It must be safe for
	// concurrent use and return quickly: it runs on the broker's delivery path.
	Observer func(d time.Duration) `json:"-"`
}

// Validate reports a Config that cannot work, naming the field and what to do.
func (c Config) Validate() error {
	var errs []error
	if c.Delay < 0 {
		errs = append(errs, fmt.Errorf("echo delay %v is negative (use 0 or more)", c.Delay))
	}
	if c.Jitter < 0 {
		errs = append(errs, fmt.Errorf("echo jitter %v is negative (use 0 or more)", c.Jitter))
	}
	if !(c.DropRate >= 0 && c.DropRate <= 1) { // also refuses NaN
		errs = append(errs, fmt.Errorf("echo drop rate %v is outside 0..1 (0.05 drops 5%% of messages)", c.DropRate))
	}
	return errors.Join(errs...)
}
