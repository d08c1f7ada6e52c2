//! The Query parser takes bytes from anyone: seeded mutations of valid
//! requests, and random bytes, must end in a typed error or a request,
//! never a panic; and an error never echoes a policy document.

use custos_iam_wire::{IamRequest, Service, StsRequest, parse_form};

/// xorshift64*: a small deterministic generator, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fops%2F&Tags.member.1.Key=team&Tags.member.1.Value=a",
    "Action=PutUserPolicy&Version=2010-05-08&UserName=alice&PolicyName=p&PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D",
    "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=3600",
    "Action=ListUsers&Version=2010-05-08&MaxItems=2&Marker=bob",
    "Action=UpdateAccessKey&Version=2010-05-08&AccessKeyId=AKIAAAAAAAAAAAAAAAAA&Status=Inactive",
    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fr&RoleSessionName=s1&PolicyArns.member.1.arn=x&DurationSeconds=900",
    "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129600",
];

fn parse_everything(body: &[u8]) {
    let Ok(params) = parse_form(body) else {
        return;
    };
    match Service::of(&params) {
        Service::Iam => {
            if let Err(e) = IamRequest::parse(&params) {
                let xml = e.to_xml(Service::Iam, "req");
                assert!(xml.starts_with("<ErrorResponse"), "{xml}");
                // Documents may hold what their authors consider private:
                // their values are never repeated (other members' are, as
                // IAM does).
                for (name, value) in params.iter() {
                    if name.ends_with("PolicyDocument") {
                        let echoed = format!("Value '{value}'");
                        assert!(!e.message.contains(&echoed), "echoed {name}: {}", e.message);
                    }
                }
            }
        }
        Service::Sts => {
            if let Err(e) = StsRequest::parse(&params) {
                assert!(e.to_xml(Service::Sts, "req").starts_with("<ErrorResponse"));
            }
        }
    }
}

#[test]
fn mutated_requests_never_panic() {
    let mut rng = Rng(0x5EED_CAFE_F00D_0001);
    const ALPHABET: &[u8] = b"%&=+.0123456789ABCDEFabcdef\x00\xff\xc3 member";
    for seed in SEEDS {
        for _ in 0..2000 {
            let mut body = seed.as_bytes().to_vec();
            for _ in 0..=rng.below(4) {
                match rng.below(3) {
                    0 if !body.is_empty() => {
                        let at = rng.below(body.len());
                        body[at] = ALPHABET[rng.below(ALPHABET.len())];
                    }
                    1 => {
                        let at = rng.below(body.len() + 1);
                        body.insert(at, ALPHABET[rng.below(ALPHABET.len())]);
                    }
                    _ if !body.is_empty() => {
                        let at = rng.below(body.len());
                        body.remove(at);
                    }
                    _ => {}
                }
            }
            parse_everything(&body);
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x0BAD_5EED_0000_0002);
    for _ in 0..5000 {
        let len = rng.below(200);
        let body: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        parse_everything(&body);
    }
}

#[test]
fn huge_member_indexes_and_repeats_are_bounded() {
    // An index far beyond any list, many members, absurd numbers.
    for body in [
        "Action=TagUser&Version=2010-05-08&UserName=a&Tags.member.4294967296.Key=k&Tags.member.4294967296.Value=v".to_owned(),
        format!(
            "Action=UntagUser&Version=2010-05-08&UserName=a&{}",
            (1..=500)
                .map(|i| format!("TagKeys.member.{i}=k{i}"))
                .collect::<Vec<_>>()
                .join("&")
        ),
        "Action=ListUsers&Version=2010-05-08&MaxItems=99999999999999999999".to_owned(),
        "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=x&MaxSessionDuration=-1".to_owned(),
    ] {
        let params = parse_form(body.as_bytes()).expect("well-formed form");
        assert!(IamRequest::parse(&params).is_err(), "{body}");
    }
}
