//! `Few<T>`: a list that is almost always empty or of one element, as a SKU's stock entries,
//! bindings and sources are. One element is held in place, with no heap block; more are held
//! in a boxed slice of exactly their number. Read as a slice (`Deref`).
//!
//! Why not `Vec`: a `Vec` is 24 bytes and a heap block (32 bytes at least) as soon as it holds
//! anything; a catalog of millions of SKUs, each with one stock entry and one binding, paid
//! both for every SKU. `Few<(AccountIdx, SkuIdx)>` is 16 bytes and allocates nothing for one
//! element (its tag hides in the box's pointer, which is never null).

use std::ops::{Deref, DerefMut};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Few<T> {
    One(T),
    /// No element (an empty box does not allocate) or at least two.
    Many(Box<[T]>),
}

impl<T> Default for Few<T> {
    fn default() -> Self {
        Few::Many(Box::new([]))
    }
}

impl<T> Deref for Few<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            Few::One(x) => std::slice::from_ref(x),
            Few::Many(b) => b,
        }
    }
}

impl<T> DerefMut for Few<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Few::One(x) => std::slice::from_mut(x),
            Few::Many(b) => b,
        }
    }
}

impl<'a, T> IntoIterator for &'a Few<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> From<Vec<T>> for Few<T> {
    fn from(mut v: Vec<T>) -> Self {
        if v.len() == 1 {
            Few::One(v.pop().expect("one element"))
        } else {
            Few::Many(v.into_boxed_slice())
        }
    }
}

impl<T> Few<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            Few::One(x) => vec![x],
            Few::Many(b) => b.into_vec(),
        }
    }

    /// Appends `x`, growing the heap block by exactly one element.
    pub fn push(&mut self, x: T) {
        let mut v = std::mem::take(self).into_vec();
        v.reserve_exact(1);
        v.push(x);
        *self = Few::from(v);
    }

    /// Keeps the elements for which `keep` is true, in order.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        let mut v = std::mem::take(self).into_vec();
        v.retain(keep);
        *self = Few::from(v);
    }

    /// Removes and returns the element at `i` (panics when out of range, as `Vec` does).
    pub fn remove(&mut self, i: usize) -> T {
        let mut v = std::mem::take(self).into_vec();
        let x = v.remove(i);
        *self = Few::from(v);
        x
    }

    /// Bytes of the heap block (none for zero or one element).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Few::One(_) => 0,
            Few::Many(b) => std::mem::size_of_val::<[T]>(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountIdx, SkuIdx, StockEntry};

    #[test]
    fn one_element_is_held_in_place_and_a_pair_costs_no_more_than_its_slice() {
        assert_eq!(std::mem::size_of::<Few<(AccountIdx, SkuIdx)>>(), 16);
        assert!(std::mem::size_of::<Few<StockEntry>>() <= 32);
        let mut f: Few<u32> = Few::default();
        assert!(f.is_empty());
        f.push(1);
        assert!(matches!(f, Few::One(1)));
        assert_eq!(f.heap_bytes(), 0);
        f.push(2);
        f.push(3);
        assert_eq!(&*f, &[1, 2, 3]);
        assert_eq!(f.heap_bytes(), 12);
        f[0] = 7;
        f.retain(|&x| x != 2);
        assert_eq!(&*f, &[7, 3]);
        assert_eq!(f.remove(0), 7);
        assert!(matches!(f, Few::One(3)));
        f.retain(|_| false);
        assert_eq!(f, Few::default());
        assert_eq!(Few::from(vec![5, 6]).iter().sum::<i32>(), 11);
    }
}
