package cis

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

func storageChecks() []Check {
	return []Check{
		{ID: "s3-deny-http", Title: "Ensure S3 Bucket Policy is set to deny HTTP requests", Section: "Storage", Level: 2, Severity: Medium, eval: evalDenyHTTP,
			Guidance: "Passes when the bucket policy denies every request whose aws:SecureTransport is false."},
		{ID: "s3-mfa-delete", Title: "Ensure MFA Delete is enabled on S3 buckets", Section: "Storage", Level: 1, Severity: Low, eval: evalMFADelete},
		{ID: "s3-block-public-access", Title: "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'", Section: "Storage", Level: 1, Severity: High, eval: evalBlockPublicAccess,
			Guidance: "Passes when all four settings are on for the bucket, or for the whole account (s3control)."},
		{ID: "ebs-default-encryption", Title: "Ensure EBS Volume Encryption is Enabled in all Regions", Section: "Storage", Level: 1, Severity: Medium, eval: evalEBSDefault},
		{ID: "rds-encryption", Title: "Ensure that encryption-at-rest is enabled for RDS Instances", Section: "Storage", Level: 1, Severity: Medium, eval: rdsRule(rdsEncrypted)},
		{ID: "rds-auto-minor-upgrade", Title: "Ensure Auto Minor Version Upgrade feature is Enabled for RDS Instances", Section: "Storage", Level: 1, Severity: Low, eval: rdsRule(rdsMinorUpgrade)},
		{ID: "rds-no-public-access", Title: "Ensure that public access is not given to RDS Instance", Section: "Storage", Level: 1, Severity: High, eval: rdsRule(rdsNotPublic)},
		{ID: "efs-encryption", Title: "Ensure that encryption is enabled for EFS file systems", Section: "Storage", Level: 1, Severity: Medium, eval: evalEFS},
	}
}

// eachBucket runs fn for every bucket the snapshot lists (ListBuckets),
// sorted by name.
func (e *env) eachBucket(what string, fn func(name string, b *Bucket) Finding) []Finding {
	lb := e.s.ListBuckets
	if lb == nil {
		return []Finding{notAssessable("", e.rootARN(), notRead(e.s, "", "s3", "ListBuckets", "the bucket list"))}
	}
	names := make([]string, 0, len(lb.Buckets))
	for _, b := range lb.Buckets {
		names = append(names, b.Name)
	}
	sort.Strings(names)
	var out []Finding
	for _, n := range names {
		b := e.s.Buckets[n]
		if b == nil {
			f := notAssessable("", e.bucketARN(n), fmt.Sprintf("bucket %s: %s not read", n, what))
			if ce := e.s.failedResource("s3", n); ce != nil {
				f.Evidence = fmt.Sprintf("bucket %s could not be read (%s: %s)", n, ce.Operation, ce.Message)
			}
			out = append(out, f)
			continue
		}
		out = append(out, fn(n, b))
	}
	if len(out) == 0 {
		out = append(out, pass("", e.rootARN(), "the account has no S3 bucket"))
	}
	return out
}

// deniesHTTP reports whether a bucket policy denies, to everyone, every
// request on the bucket and its objects that does not use TLS.
func deniesHTTP(doc *iampolicy.Document, bucketARN string) (bool, string) {
	for _, s := range doc.Statement {
		if s.Effect != iampolicy.Deny || s.Principal == nil {
			continue
		}
		everyone := s.Principal.Wildcard
		for _, v := range s.Principal.Types["AWS"] {
			everyone = everyone || v == "*"
		}
		if !everyone {
			continue
		}
		allActions := false
		for _, a := range s.Action {
			allActions = allActions || a == "*" || strings.EqualFold(a, "s3:*")
		}
		objects, bucket := false, false
		for _, r := range s.Resource {
			objects = objects || r == "*" || r == bucketARN+"/*"
			bucket = bucket || r == "*" || r == bucketARN || r == bucketARN+"*"
		}
		if !allActions || !objects || !bucket {
			continue
		}
		for _, c := range s.Condition {
			_, base, _ := c.Parts()
			if base == "Bool" && strings.EqualFold(c.Key, "aws:SecureTransport") && len(c.Values) == 1 && strings.EqualFold(c.Values[0], "false") {
				name := s.Sid
				if name == "" {
					name = "a statement without Sid"
				}
				return true, name
			}
		}
	}
	return false, ""
}

func evalDenyHTTP(e *env) []Finding {
	return e.eachBucket("the bucket policy", func(name string, b *Bucket) Finding {
		arn := e.bucketARN(name)
		stmt := fmt.Sprintf(`{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["%s","%s/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, arn, arn)
		if b.Policy == nil {
			return notAssessable(b.Region, arn, notReadBucket(e.s, name, "GetBucketPolicy", "the bucket policy"))
		}
		if b.Policy.Policy == "" {
			return fail(b.Region, arn, "the bucket has no policy, so HTTP requests are not denied",
				fmt.Sprintf("aws s3api put-bucket-policy --bucket %s --policy '{\"Version\":\"2012-10-17\",\"Statement\":[%s]}'", name, stmt))
		}
		doc, err := iampolicy.Parse([]byte(b.Policy.Policy))
		if err != nil {
			return notAssessable(b.Region, arn, "the bucket policy does not parse: "+err.Error())
		}
		if ok, sid := deniesHTTP(doc, arn); ok {
			return pass(b.Region, arn, "the bucket policy denies requests without TLS ("+sid+")")
		}
		return fail(b.Region, arn, "the bucket policy has no statement denying s3:* to everyone when aws:SecureTransport is false",
			fmt.Sprintf("# add this statement to the bucket's policy (aws s3api get-bucket-policy --bucket %s --query Policy --output text), then:\n# %s\naws s3api put-bucket-policy --bucket %s --policy file://policy-with-deny.json", name, stmt, name))
	})
}

func notReadBucket(s *Snapshot, bucket, op, what string) string {
	for _, ce := range s.Errors {
		if ce.Service == "s3" && ce.Resource == bucket && ce.Operation == op {
			return fmt.Sprintf("%s could not be read (%s: %s)", what, ce.Operation, ce.Message)
		}
	}
	return what + ": not in the snapshot"
}

func evalMFADelete(e *env) []Finding {
	return e.eachBucket("the versioning configuration", func(name string, b *Bucket) Finding {
		arn := e.bucketARN(name)
		v := b.Versioning
		if v == nil {
			return notAssessable(b.Region, arn, notReadBucket(e.s, name, "GetBucketVersioning", "the versioning configuration"))
		}
		if v.Status == "Enabled" && v.MFADelete == "Enabled" {
			return pass(b.Region, arn, "versioning and MFA delete are enabled")
		}
		return fail(b.Region, arn, fmt.Sprintf("versioning is %s, MFA delete is %s", orPlaceholder(v.Status, "never enabled"), orPlaceholder(v.MFADelete, "Disabled")),
			fmt.Sprintf("# only the root user can enable MFA delete, with its MFA device\naws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa 'arn:%s:iam::%s:mfa/root-account-mfa-device <CODE>'", name, e.part, e.acct))
	})
}

func fullBlock(p *PublicAccessBlockOutput) bool {
	if p == nil || p.PublicAccessBlockConfiguration == nil {
		return false
	}
	c := p.PublicAccessBlockConfiguration
	return c.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets
}

func blockText(p *PublicAccessBlockOutput) string {
	if p == nil || p.PublicAccessBlockConfiguration == nil {
		return "none set"
	}
	c := p.PublicAccessBlockConfiguration
	return fmt.Sprintf("BlockPublicAcls=%v IgnorePublicAcls=%v BlockPublicPolicy=%v RestrictPublicBuckets=%v", c.BlockPublicAcls, c.IgnorePublicAcls, c.BlockPublicPolicy, c.RestrictPublicBuckets)
}

const blockAll = "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"

func evalBlockPublicAccess(e *env) []Finding {
	acct := e.s.S3AccountPublicAccessBlock
	if fullBlock(acct) {
		return []Finding{pass("", fmt.Sprintf("arn:%s:s3:::*", e.part), "the account's block public access settings are all on (s3control): they cover every bucket")}
	}
	acctText := "account settings: " + blockText(acct)
	if acct == nil {
		acctText = "account settings: " + notRead(e.s, "", "s3control", "GetPublicAccessBlock", "not read")
	}
	return e.eachBucket("the public access block", func(name string, b *Bucket) Finding {
		arn := e.bucketARN(name)
		if fullBlock(b.PublicAccessBlock) {
			return pass(b.Region, arn, "the bucket's block public access settings are all on")
		}
		if b.PublicAccessBlock == nil {
			return notAssessable(b.Region, arn, notReadBucket(e.s, name, "GetPublicAccessBlock", "the bucket's public access block")+"; "+acctText)
		}
		return fail(b.Region, arn, "bucket settings: "+blockText(b.PublicAccessBlock)+"; "+acctText,
			fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration %s\n# or for every bucket of the account at once:\naws s3control put-public-access-block --account-id %s --public-access-block-configuration %s", name, blockAll, e.acct, blockAll))
	})
}

func evalEBSDefault(e *env) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		arn := e.regionARN(r)
		if rs.EbsEncryptionByDefault == nil {
			return []Finding{notAssessable(r, arn, notRead(e.s, r, "ec2", "GetEbsEncryptionByDefault", "the EBS default encryption setting"))}
		}
		if rs.EbsEncryptionByDefault.EbsEncryptionByDefault {
			return []Finding{pass(r, arn, "new EBS volumes are encrypted by default")}
		}
		return []Finding{fail(r, arn, "EbsEncryptionByDefault is false", fmt.Sprintf("aws ec2 enable-ebs-encryption-by-default --region %s", r))}
	})
}

type rdsRuleFunc func(e *env, r string, db DBInstance) (ok bool, evidence, fix string)

func rdsEncrypted(e *env, r string, db DBInstance) (bool, string, string) {
	if db.StorageEncrypted {
		return true, "storage is encrypted", ""
	}
	id := db.DBInstanceIdentifier
	return false, "StorageEncrypted is false", fmt.Sprintf("# an instance cannot be encrypted in place: copy a snapshot with a key and restore it\naws rds create-db-snapshot --db-instance-identifier %s --db-snapshot-identifier %s-pre-encryption --region %s\naws rds copy-db-snapshot --source-db-snapshot-identifier %s-pre-encryption --target-db-snapshot-identifier %s-encrypted --kms-key-id <KMS_KEY_ARN> --region %s\naws rds restore-db-instance-from-db-snapshot --db-instance-identifier %s-encrypted --db-snapshot-identifier %s-encrypted --region %s",
		id, id, r, id, id, r, id, id, r)
}

func rdsMinorUpgrade(e *env, r string, db DBInstance) (bool, string, string) {
	if db.AutoMinorVersionUpgrade {
		return true, "AutoMinorVersionUpgrade is true", ""
	}
	return false, "AutoMinorVersionUpgrade is false", fmt.Sprintf("aws rds modify-db-instance --db-instance-identifier %s --auto-minor-version-upgrade --apply-immediately --region %s", db.DBInstanceIdentifier, r)
}

func rdsNotPublic(e *env, r string, db DBInstance) (bool, string, string) {
	if !db.PubliclyAccessible {
		return true, "PubliclyAccessible is false", ""
	}
	return false, "PubliclyAccessible is true: the endpoint resolves to a public address", fmt.Sprintf("aws rds modify-db-instance --db-instance-identifier %s --no-publicly-accessible --apply-immediately --region %s", db.DBInstanceIdentifier, r)
}

func rdsRule(rule rdsRuleFunc) func(*env) []Finding {
	return func(e *env) []Finding {
		return e.perRegion(func(r string, rs *Region) []Finding {
			if rs.DBInstances == nil {
				return []Finding{notAssessable(r, e.regionARN(r), notRead(e.s, r, "rds", "DescribeDBInstances", "the DB instances"))}
			}
			var out []Finding
			for _, db := range rs.DBInstances.DBInstances {
				arn := orPlaceholder(db.DBInstanceArn, fmt.Sprintf("arn:%s:rds:%s:%s:db:%s", e.part, r, e.acct, db.DBInstanceIdentifier))
				ok, ev, fix := rule(e, r, db)
				if ok {
					out = append(out, pass(r, arn, ev))
				} else {
					out = append(out, fail(r, arn, fmt.Sprintf("%s (%s): %s", db.DBInstanceIdentifier, db.Engine, ev), fix))
				}
			}
			if len(out) == 0 {
				out = append(out, pass(r, e.regionARN(r), "no RDS instance"))
			}
			return out
		})
	}
}

func evalEFS(e *env) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		if rs.FileSystems == nil {
			return []Finding{notAssessable(r, e.regionARN(r), notRead(e.s, r, "efs", "DescribeFileSystems", "the EFS file systems"))}
		}
		var out []Finding
		for _, fs := range rs.FileSystems.FileSystems {
			arn := orPlaceholder(fs.FileSystemArn, fmt.Sprintf("arn:%s:elasticfilesystem:%s:%s:file-system/%s", e.part, r, e.acct, fs.FileSystemId))
			if fs.Encrypted {
				out = append(out, pass(r, arn, "encrypted with "+orPlaceholder(fs.KmsKeyId, "the default key")))
				continue
			}
			out = append(out, fail(r, arn, fmt.Sprintf("%s (%s) is not encrypted", fs.FileSystemId, orPlaceholder(fs.Name, "no name")),
				fmt.Sprintf("# EFS cannot be encrypted in place: create an encrypted file system and copy the data (AWS DataSync)\naws efs create-file-system --encrypted --kms-key-id <KMS_KEY_ARN> --creation-token %s-encrypted --region %s", fs.FileSystemId, r)))
		}
		if len(out) == 0 {
			out = append(out, pass(r, e.regionARN(r), "no EFS file system"))
		}
		return out
	})
}
