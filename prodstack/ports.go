package prodstack

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// The Temporal server's ports lie in [temporalPortLow, temporalPortHigh): it stores its
// membership ports in a smallint column (cluster_membership.rpc_port), which a port above
// 32767 overflows, and the server crashes at its first heartbeat.
const (
	temporalPortLow  = 20000
	temporalPortHigh = 32000
	// frontend gRPC, frontend HTTP, frontend membership, history gRPC and membership, matching
	// gRPC and membership, worker gRPC and membership.
	temporalPortCount = 9
)

// temporalPorts picks distinct free ports for the server, at random in the range (the
// system's ephemeral ports lie above it). They are kept for the stack's life: a restarted
// server finds its membership rows at its own addresses and joins at once.
func temporalPorts() ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	ports := make([]int, 0, temporalPortCount)
	for tries := 0; len(ports) < temporalPortCount; tries++ {
		if tries > 1000 {
			return nil, fmt.Errorf("prodstack: no %d free ports between %d and %d", temporalPortCount, temporalPortLow, temporalPortHigh)
		}
		p := temporalPortLow + rand.IntN(temporalPortHigh-temporalPortLow)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue // taken (or one of ours already)
		}
		lns = append(lns, ln)
		ports = append(ports, p)
	}
	return ports, nil
}

// freeAddr is a free loopback address the system picks.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
