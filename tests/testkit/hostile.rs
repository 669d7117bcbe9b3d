//! Application payloads that carry whatever bytes a test hands them, to see
//! what the parsers and the printers make of escapes, bidi overrides and
//! odd lengths.

/// A TLS 1.2-framed ClientHello (one TLS 1.3 cipher suite, no
/// compression) whose only extension is server_name `name`, taken as
/// bytes.
pub fn client_hello(name: &[u8]) -> Vec<u8> {
    let mut hello = vec![0x16, 3, 1, 0, 0, 1, 0, 0, 0, 3, 3];
    hello.extend_from_slice(&[0; 32]); // random
    hello.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]); // session id, ciphers, compression
    let mut ext = vec![0, 0]; // server_name
    let list_len = name.len() + 3;
    ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    ext.extend_from_slice(&(list_len as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let hs_len = hello.len() - 9;
    hello[6..9].copy_from_slice(&(hs_len as u32).to_be_bytes()[1..]);
    let rec_len = hello.len() - 5;
    hello[3..5].copy_from_slice(&(rec_len as u16).to_be_bytes());
    hello
}

/// A DNS query (id 0x1234, RD, one question, type A, class IN) for the
/// name made of `labels`, each taken as bytes.
pub fn dns_query(labels: &[&[u8]]) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for l in labels {
        q.push(l.len() as u8);
        q.extend_from_slice(l);
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}
