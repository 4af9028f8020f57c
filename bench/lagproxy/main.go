// Command lagproxy forwards TCP connections to an address, holding each
// chunk a client sends for a while first: an S3-compatible server on this
// machine (MinIO) answering as one across a network would, for measuring
// what a command's requests cost in waiting (bench/merge-s3.sh).
//
//	go run ./bench/lagproxy -listen 127.0.0.1:19556 -to 127.0.0.1:19555 -delay 20ms
package main

import (
	"flag"
	"io"
	"log"
	"net"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (its port is printed)")
	to := flag.String("to", "", "address to forward to")
	delay := flag.Duration("delay", 20*time.Millisecond, "how long each chunk from a client waits")
	flag.Parse()
	if *to == "" {
		log.Fatal("lagproxy: -to is required")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.SetFlags(0)
	log.Printf("%s", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go forward(c, *to, *delay)
	}
}

// forward copies c to a new connection to addr, each chunk read from c
// after delay, and the answers back as they come.
func forward(c net.Conn, addr string, delay time.Duration) {
	defer c.Close()
	s, err := net.Dial("tcp", addr)
	if err != nil {
		log.Print(err)
		return
	}
	defer s.Close()
	go func() {
		_, _ = io.Copy(c, s)
		c.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			time.Sleep(delay)
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
