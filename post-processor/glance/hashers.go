package glance

import (
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// hashBlock is the size of the blocks the upload reads the file in: one
// read of the progress bar's stream (in a plugin, a call to Packer) per
// MiB, and large enough that handing a block to the hashes costs nothing
// next to hashing it.
const hashBlock = 1 << 20

// hashersQueue is how many blocks each hash may fall behind the upload
// before a read waits for it: 8 MiB per hash, at most, in flight.
const hashersQueue = 8

var blockPool = sync.Pool{New: func() any { b := make([]byte, hashBlock); return &b }}

// hashers compute the upload's hashes beside it, each in a goroutine of
// its own. md5 and sha512 run at about 860 and 970 MB/s on this project's
// CI machine; computed one after the other in the goroutine that feeds the
// HTTP request they kept the upload at 0.84 of curl's throughput (issue
// 18), on a machine whose other core Glance hashes the same bytes on.
type hashers struct {
	queues []chan *block
	done   sync.WaitGroup
}

// block is a piece of the file, shared by the hashes and the reader that
// serves it to the HTTP request; the last of them to release it gives it
// back to the pool.
type block struct {
	buf  *[]byte
	data []byte
	refs atomic.Int32
}

func (b *block) release() {
	if b.refs.Add(-1) == 0 {
		blockPool.Put(b.buf)
	}
}

func newHashers(hs ...hash.Hash) *hashers {
	x := &hashers{}
	for _, h := range hs {
		q := make(chan *block, hashersQueue)
		x.queues = append(x.queues, q)
		x.done.Add(1)
		go func() {
			defer x.done.Done()
			for b := range q {
				h.Write(b.data)
				b.release()
			}
		}()
	}
	return x
}

// read reads the next block of r, hands it to every hash and returns it,
// held once more for the caller, who releases it when done with it. At the
// end of r it returns the error that ended it, with the last bytes if any.
func (x *hashers) read(r io.Reader) (*block, error) {
	buf := blockPool.Get().(*[]byte)
	n, err := io.ReadFull(r, *buf)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	b := &block{buf: buf, data: (*buf)[:n]}
	b.refs.Store(int32(len(x.queues)) + 1)
	if n > 0 {
		for _, q := range x.queues {
			q <- b
		}
	} else {
		b.refs.Store(1)
	}
	return b, err
}

// close returns once every hash has had every block read: then their sums
// are those of all the bytes read.
func (x *hashers) close() {
	for _, q := range x.queues {
		close(q)
	}
	x.done.Wait()
}
