package cli

// keyDelta is the change of the device count that a key of Locust's headless
// controls asks for: w and W add 1 and 10 devices, s and S remove 1 and 10;
// 0 for any other key.
func keyDelta(b byte) int {
	switch b {
	case 'w':
		return 1
	case 'W':
		return 10
	case 's':
		return -1
	case 'S':
		return -10
	}
	return 0
}

// keysHelp is said once when the keys are read.
const keysHelp = "Keys: w/W add 1/10 devices, s/S remove 1/10"
