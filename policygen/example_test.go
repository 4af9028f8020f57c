package policygen

import (
	"os"
	"time"

	"github.com/iamlens/iamlens/analyzer"
)

// Four objects under one prefix collapse to it in prefix mode; the action
// without resource-level restriction gets "*"; the region condition names
// the region the calls were made in.
func ExampleGenerate() {
	seen := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	obj := func(key string) analyzer.ResourceUsage {
		return analyzer.ResourceUsage{ARN: "arn:aws:s3:::logs/app/2026/11/" + key, Calls: 1, FirstSeen: seen, LastSeen: seen}
	}
	u := &analyzer.Usage{
		Principal: "arn:aws:iam::111122223333:role/reader", Kind: "role",
		Allowed: []*analyzer.ActionUsage{
			{Action: "s3:GetObject", Calls: 4, Regions: []string{"eu-west-1"},
				Resources: []analyzer.ResourceUsage{obj("01/a.gz"), obj("02/b.gz"), obj("03/c.gz"), obj("04/d.gz")}},
			{Action: "s3:ListAllMyBuckets", Calls: 1, Regions: []string{"eu-west-1"},
				Resources: []analyzer.ResourceUsage{{ARN: "*", Calls: 1}}},
		},
		Origins: analyzer.Origins{Calls: 5},
	}
	res, err := Generate(u, testCatalog(), Options{ConditionRegion: true})
	if err != nil {
		panic(err)
	}
	_ = WritePolicy(os.Stdout, []*Result{res})
	// Output:
	// {
	//   "arn:aws:iam::111122223333:role/reader": [
	//     {
	//       "Version": "2012-10-17",
	//       "Statement": [
	//         {
	//           "Sid": "S3",
	//           "Effect": "Allow",
	//           "Action": [
	//             "s3:GetObject"
	//           ],
	//           "Resource": [
	//             "arn:aws:s3:::logs/app/2026/11/*"
	//           ],
	//           "Condition": {
	//             "StringEquals": {
	//               "aws:RequestedRegion": [
	//                 "eu-west-1"
	//               ]
	//             }
	//           }
	//         },
	//         {
	//           "Sid": "S3Stmt2",
	//           "Effect": "Allow",
	//           "Action": [
	//             "s3:ListAllMyBuckets"
	//           ],
	//           "Resource": [
	//             "*"
	//           ],
	//           "Condition": {
	//             "StringEquals": {
	//               "aws:RequestedRegion": [
	//                 "eu-west-1"
	//               ]
	//             }
	//           }
	//         }
	//       ]
	//     }
	//   ]
	// }
}
