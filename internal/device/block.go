package device

// Block returns the devices that the worker with the given ordinal owns: the
// ordinal-th block of blockSize devices, devs[ordinal*blockSize :
// (ordinal+1)*blockSize], clipped to the list. This is the tutorial's sharding:
// StatefulSet pods are named name-0 … name-(n-1), and pod k runs block k. A
// negative ordinal, a blockSize below 1, or a block past the end gives nil.
//
// The result shares devs' backing array but has its capacity capped, so
// appending to it cannot overwrite the next block.
func Block(devs []Device, ordinal, blockSize int) []Device {
	if ordinal < 0 || blockSize < 1 {
		return nil
	}
	blocks := len(devs) / blockSize
	if len(devs)%blockSize != 0 {
		blocks++
	}
	if ordinal >= blocks {
		return nil
	}
	lo := ordinal * blockSize // < len(devs), as ordinal < blocks
	hi := lo + min(blockSize, len(devs)-lo)
	return devs[lo:hi:hi]
}
