package hist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// encodingV1 is the first byte of an encoded histogram.
const encodingV1 = 1

// AppendEncode appends the compact encoding of counts (bucket counts in the
// geometry's order, no more than Len of them) to dst and returns the
// extended slice. It is ltk's one encoding of a histogram: the wire protocol
// carries it, the results store keeps it (version 1 since the store's first
// release: stores written before still decode) and the target serves it. The encoding is a version byte, the number of non-zero
// buckets, then for each the gap since the previous one and its count, all
// as unsigned varints: a second of typical response times takes tens to a
// few hundred bytes instead of 26 KiB.
func AppendEncode(dst []byte, counts []int64) []byte {
	n := 0
	for _, c := range counts {
		if c != 0 {
			n++
		}
	}
	dst = append(dst, encodingV1)
	dst = binary.AppendUvarint(dst, uint64(n))
	prev := -1
	for i, c := range counts {
		if c == 0 {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(i-prev-1))
		dst = binary.AppendUvarint(dst, uint64(c))
		prev = i
	}
	return dst
}

// ErrCorrupt is wrapped by the errors of Decode.
var ErrCorrupt = errors.New("corrupt histogram encoding")

// Decode returns the bucket counts b encodes, without trailing zeros. It
// rejects anything AppendEncode cannot have written: another version,
// buckets beyond the geometry, negative or overflowing counts, extra bytes.
// It allocates once, the counts it returns.
func Decode(b []byte) ([]int64, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrCorrupt)
	}
	if b[0] != encodingV1 {
		return nil, fmt.Errorf("%w: version %d (is it from a newer ltk?)", ErrCorrupt, b[0])
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > uint64(Len) {
		return nil, fmt.Errorf("%w: bucket count", ErrCorrupt)
	}
	buckets := b[1+k:]
	last, err := walk(buckets, int(n), nil) // check, and find the length
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	counts := make([]int64, last+1)
	_, _ = walk(buckets, int(n), counts) // checked above: cannot fail
	return counts, nil
}

// walk reads the n (gap, count) pairs of b, which must hold nothing else, and
// returns the last bucket's index (-1 if n is 0). If counts is not nil, it
// sets the buckets' counts in it.
func walk(b []byte, n int, counts []int64) (last int, _ error) {
	idx := -1
	var total int64
	for range n {
		gap, k := binary.Uvarint(b)
		if k <= 0 || gap >= uint64(Len) {
			return 0, fmt.Errorf("%w: bucket gap", ErrCorrupt)
		}
		b = b[k:]
		c, k := binary.Uvarint(b)
		if k <= 0 || c == 0 || c > math.MaxInt64 || int64(c) > math.MaxInt64-total {
			return 0, fmt.Errorf("%w: bucket count", ErrCorrupt)
		}
		b = b[k:]
		idx += int(gap) + 1
		if idx >= Len {
			return 0, fmt.Errorf("%w: bucket %d beyond the %d of the geometry", ErrCorrupt, idx, Len)
		}
		total += int64(c)
		if counts != nil {
			counts[idx] = int64(c)
		}
	}
	if len(b) != 0 {
		return 0, fmt.Errorf("%w: %d extra bytes", ErrCorrupt, len(b))
	}
	return idx, nil
}
