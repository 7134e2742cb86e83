package device

import (
	"testing"

	"go.uber.org/goleak"
)

// GenerateAll and DecodeFleet start goroutines; none may outlive them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
