//! Contact names by id. A phone number is kept as its digits and shown as `+digits` when
//! asked for, so that a log of millions of contacts holds no string per contact.

use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct Contacts {
    /// A number's digits by contact id; 0 (never a number: they have 7 to 15 digits and no
    /// leading zero) for a contact that is not a number.
    numbers: Vec<u64>,
    /// The names of the contacts that are not numbers, by contact id, in id order.
    ids: Vec<(u32, Box<str>)>,
}

impl Contacts {
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Adds a number (`phone::number_key`) and gives its id.
    pub fn push_number(&mut self, number: u64) -> u32 {
        self.numbers.push(number);
        self.numbers.len() as u32 - 1
    }

    /// Adds a contact that is not a number (a name as typed, trimmed) and gives its id.
    pub fn push_id(&mut self, name: &str) -> u32 {
        let id = self.numbers.len() as u32;
        self.numbers.push(0);
        self.ids.push((id, name.into()));
        id
    }

    pub fn name(&self, id: u32) -> Cow<'_, str> {
        match self.numbers[id as usize] {
            0 => Cow::Borrowed(self.id_name(id)),
            n => Cow::Owned(format!("+{n}")),
        }
    }

    fn id_name(&self, id: u32) -> &str {
        self.ids
            .binary_search_by_key(&id, |(i, _)| *i)
            .map_or("", |k| &self.ids[k].1)
    }

    /// The first 16 bytes of each name, zero-padded, as a big-endian number (so that numbers
    /// compare as the names do), by id. A number's name (`+` and at most 15 digits) is whole.
    pub fn name_prefixes(&self) -> Vec<u128> {
        let mut ids = self.ids.iter();
        self.numbers
            .iter()
            .map(|&n| {
                let mut b = [0u8; 16];
                if n == 0 {
                    let name = ids.next().map_or("", |(_, name)| name).as_bytes();
                    let k = name.len().min(16);
                    b[..k].copy_from_slice(&name[..k]);
                } else {
                    let digits = n.ilog10() as usize + 1;
                    b[0] = b'+';
                    let mut v = n;
                    for i in (1..=digits).rev() {
                        b[i] = b'0' + (v % 10) as u8;
                        v /= 10;
                    }
                }
                u128::from_be_bytes(b)
            })
            .collect()
    }

    /// The id of the contact of this name, if any.
    pub fn find(&self, name: &str) -> Option<u32> {
        (0..self.len() as u32).find(|&id| self.name(id) == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ids_keep_their_names_and_order() {
        let mut c = Contacts::default();
        assert_eq!(c.push_number(380501234567), 0);
        assert_eq!(c.push_id("user-7"), 1);
        assert_eq!(c.push_number(123456789012345), 2);
        assert_eq!(c.push_id("a name longer than sixteen bytes"), 3);
        let names: Vec<String> = (0..4).map(|i| c.name(i).into_owned()).collect();
        assert_eq!(
            names,
            [
                "+380501234567",
                "user-7",
                "+123456789012345",
                "a name longer than sixteen bytes"
            ]
        );
        let want: Vec<u128> = names
            .iter()
            .map(|n| {
                let mut b = [0u8; 16];
                let k = n.len().min(16);
                b[..k].copy_from_slice(&n.as_bytes()[..k]);
                u128::from_be_bytes(b)
            })
            .collect();
        assert_eq!(c.name_prefixes(), want);
        assert_eq!(c.find("user-7"), Some(1));
        assert_eq!(c.find("+123456789012345"), Some(2));
        assert_eq!(c.find("+1"), None);
    }
}
