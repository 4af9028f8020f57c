// Command gencorpus writes a synthetic but realistic CloudTrail corpus for
// benchmarks: *.json.gz log files in the real S3 key layout, built from the
// real invictus-ir records as templates (their shapes, sizes and request
// parameters), with hundreds of principals, several accounts and regions,
// fresh eventIDs and times spread over the chosen days. Deterministic for a
// seed.
//
//	go run ./bench/gencorpus -out bench/out/corpus-1g -mb 1024 -days 4
//
// By default every principal draws each call from all the templates and
// each call comes from a random address: almost every event is a call of its
// own, the worst case for anything that groups calls (the usage rollup).
// Real trails repeat themselves; -repertoire, -ips and -busy make a corpus
// that does:
//
//	-repertoire 256  each principal uses its own 4 to 256 templates (log-uniform)
//	-ips 32          each principal calls from its own 1 to 32 addresses (log-uniform)
//	-busy 0.07       a CI role (arn:aws:iam::111122223333:role/ci/ci-deploy) makes the
//	                 first record of every file and 7% of the others, calling into
//	                 every account with 40 templates from 16 addresses
//
// With all three at zero the corpus is byte for byte the one earlier
// versions wrote for the same flags.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

func main() {
	templates := flag.String("templates", "testdata/sample", "folder of real CloudTrail logs used as templates")
	out := flag.String("out", "bench/out/corpus", "output folder")
	mb := flag.Int64("mb", 1024, "total uncompressed JSON to write, in MiB")
	days := flag.Int("days", 4, "days the events are spread over")
	start := flag.String("start", "2026-10-01", "first day")
	principals := flag.Int("principals", 600, "number of distinct principals")
	seed := flag.Uint64("seed", 1, "random seed")
	repertoire := flag.Int("repertoire", 0, "each principal uses 4 to this many templates, log-uniform (0: every template)")
	ips := flag.Int("ips", 0, "each principal calls from 1 to this many addresses, log-uniform (0: a random address per call)")
	busy := flag.Float64("busy", 0, "share of the records made by one busy CI role, besides the first of every file")
	flag.Parse()

	recs, err := loadTemplates(*templates)
	if err != nil {
		log.Fatal(err)
	}
	day0, err := time.Parse("2006-01-02", *start)
	if err != nil {
		log.Fatal(err)
	}
	accounts := []string{"111122223333", "444455556666", "777788889999"}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	hab := newHabits(len(recs), *principals, *repertoire, *ips, *busy, *seed)

	// Files are split evenly over (day, account, region) streams; each
	// worker writes whole files, so the output does not depend on timing.
	type job struct{ stream, file int }
	streams := *days * len(accounts) * len(regions)
	const recsPerFileMean = 120
	target := *mb << 20
	// Average template size decides how many files reach the target.
	avg := 0
	for _, r := range recs {
		b, _ := json.Marshal(r.raw)
		avg += len(b)
	}
	avg /= len(recs)
	files := int(target/int64(avg*recsPerFileMean)) + 1
	perStream := (files + streams - 1) / streams

	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total, written int64
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for j := range jobs {
				rng := rand.New(rand.NewPCG(*seed, uint64(j.stream)<<32|uint64(j.file)))
				d := j.stream / (len(accounts) * len(regions))
				acct := accounts[(j.stream/len(regions))%len(accounts)]
				region := regions[j.stream%len(regions)]
				day := day0.AddDate(0, 0, d)
				// a delivery time within the day, files in time order
				t := day.Add(time.Duration(j.file) * 24 * time.Hour / time.Duration(perStream))
				n := 1 + rng.IntN(2*recsPerFileMean)
				buf.Reset()
				buf.WriteString(`{"Records":[`)
				for i := 0; i < n; i++ {
					if i > 0 {
						buf.WriteByte(',')
					}
					when := func() time.Time { return t.Add(time.Duration(rng.IntN(300)) * time.Second) }
					if hab == nil {
						tpl := recs[rng.IntN(len(recs))]
						writeRecord(&buf, tpl, rng, acct, region, when(), *principals)
						continue
					}
					p := hab.principal(rng, i == 0)
					tpl := recs[hab.template(rng, p)]
					writeRecordAs(&buf, tpl, rng, acct, region, when(), p, hab.ip(rng, p))
				}
				buf.WriteString(`]}`)
				key := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%sZ_%08x.json.gz",
					acct, region, day.Format("2006/01/02"), acct, region, t.Format("20060102T1504"), rng.Uint32())
				p := filepath.Join(*out, filepath.FromSlash(key))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					log.Fatal(err)
				}
				var gz bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
				zw.Write(buf.Bytes())
				zw.Close()
				if err := os.WriteFile(p, gz.Bytes(), 0o644); err != nil {
					log.Fatal(err)
				}
				mu.Lock()
				total += int64(buf.Len())
				written += int64(gz.Len())
				mu.Unlock()
			}
		}()
	}
	for f := 0; f < perStream; f++ {
		for s := 0; s < streams; s++ {
			jobs <- job{stream: s, file: f}
		}
	}
	close(jobs)
	wg.Wait()
	log.Printf("%d files, %.1f MiB of JSON (%.1f MiB gzipped) in %s", perStream*streams, float64(total)/(1<<20), float64(written)/(1<<20), *out)
}

type template struct {
	raw map[string]any
}

func loadTemplates(dir string) ([]template, error) {
	var out []template
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		var doc struct{ Records []map[string]any }
		if err := json.NewDecoder(zr).Decode(&doc); err != nil {
			return err
		}
		for _, r := range doc.Records {
			out = append(out, template{raw: r})
		}
		return nil
	})
	if len(out) == 0 && err == nil {
		err = fmt.Errorf("no templates in %s", dir)
	}
	return out, err
}

// habits are what -repertoire, -ips and -busy give each principal: the
// templates it uses and the addresses it calls from. Principal -1 is the
// busy CI role.
type habits struct {
	principals int
	busy       float64
	templates  [][]int    // by principal; the busy role's last
	addrs      [][]string // by principal; the busy role's last
	all        int        // number of templates
}

func newHabits(templates, principals, repertoire, ips int, busy float64, seed uint64) *habits {
	if repertoire <= 0 && ips <= 0 && busy <= 0 {
		return nil
	}
	h := &habits{principals: principals, busy: busy, all: templates}
	logUniform := func(rng *rand.Rand, lo, hi int) int {
		if hi <= lo {
			return lo
		}
		return int(math.Round(math.Exp(math.Log(float64(lo)) + rng.Float64()*(math.Log(float64(hi))-math.Log(float64(lo))))))
	}
	for p := 0; p <= principals; p++ {
		rng := rand.New(rand.NewPCG(seed^0x6861626974, uint64(p)))
		var tpls []int
		var addrs []string
		nt, na := 0, 0
		switch {
		case p == principals: // the busy CI role
			nt, na = 40, 16
		default:
			if repertoire > 0 {
				nt = logUniform(rng, 4, max(4, repertoire))
			}
			if ips > 0 {
				na = logUniform(rng, 1, ips)
			}
		}
		for range nt {
			tpls = append(tpls, rng.IntN(templates))
		}
		for range na {
			addrs = append(addrs, fmt.Sprintf("198.51.%d.%d", p%256, rng.IntN(256)))
		}
		h.templates = append(h.templates, tpls)
		h.addrs = append(h.addrs, addrs)
	}
	return h
}

// principal picks who makes a record: the busy role for the first record
// of a file and a -busy share of the others, else anyone.
func (h *habits) principal(rng *rand.Rand, first bool) int {
	if h.busy > 0 && (first || rng.Float64() < h.busy) {
		return -1
	}
	return rng.IntN(h.principals)
}

func (h *habits) slot(p int) int {
	if p < 0 {
		return h.principals
	}
	return p
}

func (h *habits) template(rng *rand.Rand, p int) int {
	if t := h.templates[h.slot(p)]; len(t) > 0 {
		return t[rng.IntN(len(t))]
	}
	return rng.IntN(h.all)
}

// ip is the address a call of p comes from ("" for a random one).
func (h *habits) ip(rng *rand.Rand, p int) string {
	if a := h.addrs[h.slot(p)]; len(a) > 0 {
		return a[rng.IntN(len(a))]
	}
	return ""
}

// writeRecord writes one record from a template with a fresh identity,
// account, region, time and eventID.
func writeRecord(buf *bytes.Buffer, tpl template, rng *rand.Rand, acct, region string, t time.Time, principals int) {
	writeRecordAs(buf, tpl, rng, acct, region, t, rng.IntN(principals), "")
}

// writeRecordAs is writeRecord for principal p (-1: the busy CI role),
// calling from ip ("" for a random address).
func writeRecordAs(buf *bytes.Buffer, tpl template, rng *rand.Rand, acct, region string, t time.Time, p int, ip string) {
	r := make(map[string]any, len(tpl.raw))
	for k, v := range tpl.raw {
		r[k] = v
	}
	var id [16]byte
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	r["eventID"] = fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16])
	r["eventTime"] = t.UTC().Format("2006-01-02T15:04:05Z")
	r["awsRegion"] = region
	r["recipientAccountId"] = acct
	if ip == "" {
		ip = fmt.Sprintf("198.51.%d.%d", p%256, rng.IntN(256))
	}
	r["sourceIPAddress"] = ip
	if ui, ok := tpl.raw["userIdentity"].(map[string]any); ok {
		u := make(map[string]any, len(ui))
		for k, v := range ui {
			u[k] = v
		}
		u["accountId"] = acct
		switch {
		case p < 0: // the busy CI role, of the first account, calling into every account
			const home = "111122223333"
			hour := t.UTC().Truncate(time.Hour)
			session := fmt.Sprintf("ci-%d", hour.Hour())
			u["accountId"] = home
			u["type"] = "AssumedRole"
			u["arn"] = "arn:aws:sts::" + home + ":assumed-role/ci-deploy/" + session
			u["principalId"] = "AROACIDEPLOY0000000001:" + session
			u["accessKeyId"] = fmt.Sprintf("ASIACI%014X", uint32(hour.Unix()/3600))
			u["sessionContext"] = map[string]any{
				"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROACIDEPLOY0000000001",
					"arn": "arn:aws:iam::" + home + ":role/ci/ci-deploy", "accountId": home, "userName": "ci-deploy"},
				"attributes": map[string]any{"creationDate": hour.Format("2006-01-02T15:04:05Z"), "mfaAuthenticated": "false"},
			}
			delete(u, "userName")
		case p%5 < 3: // IAM users
			name := fmt.Sprintf("user-%04d", p)
			u["type"] = "IAMUser"
			u["arn"] = "arn:aws:iam::" + acct + ":user/" + name
			u["userName"] = name
			u["principalId"] = fmt.Sprintf("AIDA%016X", p)
			u["accessKeyId"] = fmt.Sprintf("AKIA%016X", p)
			delete(u, "sessionContext")
		default: // assumed roles with a path
			role := fmt.Sprintf("role-%04d", p)
			// One STS session per role and hour, as in real trails: its
			// temporary key, name and creation time repeat on every call
			// made with it.
			hour := t.UTC().Truncate(time.Hour)
			session := fmt.Sprintf("session-%d", hour.Hour()%20)
			u["type"] = "AssumedRole"
			u["arn"] = "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session
			u["principalId"] = fmt.Sprintf("AROA%016X:%s", p, session)
			u["accessKeyId"] = fmt.Sprintf("ASIA%08X%08X", p, uint32(hour.Unix()/3600))
			u["sessionContext"] = map[string]any{
				"sessionIssuer": map[string]any{"type": "Role", "principalId": fmt.Sprintf("AROA%016X", p),
					"arn": "arn:aws:iam::" + acct + ":role/app/" + role, "accountId": acct, "userName": role},
				"attributes": map[string]any{"creationDate": hour.Format("2006-01-02T15:04:05Z"), "mfaAuthenticated": "false"},
			}
			delete(u, "userName")
		}
		r["userIdentity"] = u
	}
	b, _ := json.Marshal(r)
	buf.Write(b)
}
