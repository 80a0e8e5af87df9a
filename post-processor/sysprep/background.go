package sysprep

import "context"

// background is a call running on its own: its value and error, once done
// is closed.
type background[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// inBackground starts f.
func inBackground[T any](f func() (T, error)) *background[T] {
	b := &background[T]{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.v, b.err = f()
	}()
	return b
}

// wait returns the call's value and error, or ctx's error first.
func (b *background[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-b.done:
		return b.v, b.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
