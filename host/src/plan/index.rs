//! Typed indices. A task or group *template* indexes the plan; a task or group *instance*
//! indexes the run's tree (a template inside a loop has one instance per iteration). Each is
//! its own type, so that one can never be used for the other, and [`IdxVec`] is a vector that
//! only its own index type can index.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// An index type: a `usize` with a name.
pub(crate) trait Idx: Copy + Eq + fmt::Debug {
    /// The index of position `i`.
    fn new(i: usize) -> Self;
    /// The position.
    fn index(self) -> usize;
}

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) struct $name(usize);

        impl Idx for $name {
            #[inline]
            fn new(i: usize) -> Self {
                $name(i)
            }
            #[inline]
            fn index(self) -> usize {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

index_type!(
    /// A task template: an index into [`Plan::tasks`](super::Plan::tasks).
    TaskIdx
);
index_type!(
    /// A group template: an index into [`Plan::groups`](super::Plan::groups); the pipeline
    /// itself is [`GroupIdx::ROOT`].
    GroupIdx
);
index_type!(
    /// A naming scope (the pipeline file, or one use of a sub-pipeline): an index into
    /// [`Plan::scopes`](super::Plan::scopes); the pipeline file is [`ScopeIdx::ROOT`].
    ScopeIdx
);
index_type!(
    /// A task instance: an index into [`Tree::tasks`](super::tree::Tree::tasks).
    TaskInstIdx
);
index_type!(
    /// A group instance: an index into [`Tree::groups`](super::tree::Tree::groups); the
    /// pipeline itself is [`GroupInstIdx::ROOT`].
    GroupInstIdx
);

impl GroupIdx {
    /// The pipeline's own group.
    pub(crate) const ROOT: GroupIdx = GroupIdx(0);
}

impl ScopeIdx {
    /// The pipeline file's scope.
    pub(crate) const ROOT: ScopeIdx = ScopeIdx(0);
}

impl GroupInstIdx {
    /// The pipeline's own group instance.
    pub(crate) const ROOT: GroupInstIdx = GroupInstIdx(0);
}

/// A vector indexed by `I` only.
pub(crate) struct IdxVec<I, T> {
    raw: Vec<T>,
    index: PhantomData<fn(&I)>,
}

impl<I: Idx, T> IdxVec<I, T> {
    /// An empty vector.
    pub(crate) const fn new() -> Self {
        IdxVec { raw: Vec::new(), index: PhantomData }
    }

    /// `n` copies of `value`.
    pub(crate) fn from_elem(value: T, n: usize) -> Self
    where
        T: Clone,
    {
        IdxVec { raw: vec![value; n], index: PhantomData }
    }

    /// Appends `value`; returns its index.
    #[inline]
    pub(crate) fn push(&mut self, value: T) -> I {
        self.raw.push(value);
        I::new(self.raw.len() - 1)
    }

    /// The number of elements.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.raw.len()
    }

    /// The element at `i`, if there is one.
    #[inline]
    pub(crate) fn get(&self, i: I) -> Option<&T> {
        self.raw.get(i.index())
    }

    /// The element at `i`, if there is one, to change.
    #[inline]
    pub(crate) fn get_mut(&mut self, i: I) -> Option<&mut T> {
        self.raw.get_mut(i.index())
    }

    /// The index the next push gets.
    #[inline]
    pub(crate) fn next_idx(&self) -> I {
        I::new(self.raw.len())
    }

    /// The elements in order.
    #[inline]
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.raw.iter()
    }

    /// The elements with their indices.
    #[inline]
    pub(crate) fn iter_enumerated(&self) -> impl DoubleEndedIterator<Item = (I, &T)> + '_ {
        self.raw.iter().enumerate().map(|(i, t)| (I::new(i), t))
    }

    /// Every index, in order.
    #[inline]
    pub(crate) fn indices(&self) -> impl DoubleEndedIterator<Item = I> + 'static
    where
        I: 'static,
    {
        (0..self.raw.len()).map(I::new)
    }

    /// Grows to `n` elements, filling with `value`.
    pub(crate) fn resize(&mut self, n: usize, value: T)
    where
        T: Clone,
    {
        self.raw.resize(n, value);
    }

    /// Makes room for `n` more elements, and no more.
    pub(crate) fn reserve_exact(&mut self, n: usize) {
        self.raw.reserve_exact(n);
    }

    /// Grows to `n` elements, filling with what `f` makes.
    pub(crate) fn resize_with(&mut self, n: usize, f: impl FnMut() -> T) {
        self.raw.resize_with(n, f);
    }
}

impl<I: Idx, T> Index<I> for IdxVec<I, T> {
    type Output = T;
    #[inline]
    fn index(&self, i: I) -> &T {
        &self.raw[i.index()]
    }
}

impl<I: Idx, T> IndexMut<I> for IdxVec<I, T> {
    #[inline]
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.raw[i.index()]
    }
}

impl<I, T: Clone> Clone for IdxVec<I, T> {
    fn clone(&self) -> Self {
        IdxVec { raw: self.raw.clone(), index: PhantomData }
    }
}

impl<I, T: fmt::Debug> fmt::Debug for IdxVec<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.fmt(f)
    }
}

impl<I, T> Default for IdxVec<I, T> {
    fn default() -> Self {
        IdxVec { raw: Vec::new(), index: PhantomData }
    }
}

impl<I, T> FromIterator<T> for IdxVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        IdxVec { raw: iter.into_iter().collect(), index: PhantomData }
    }
}

impl<'a, I, T> IntoIterator for &'a IdxVec<I, T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.raw.iter()
    }
}

impl<I, T> IntoIterator for IdxVec<I, T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.raw.into_iter()
    }
}
