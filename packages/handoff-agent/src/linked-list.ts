// An intrusive doubly linked list: each member owns its node, allocated once, so joining, leaving
// and moving to the tail allocate nothing. Used for first-in-first-out and least-recently-used orders.

export class ListNode<T> {
  prev: ListNode<T> | null = null;
  next: ListNode<T> | null = null;
  linked = false;

  constructor(readonly value: T) {}
}

export class LinkedList<T> {
  head: ListNode<T> | null = null;
  tail: ListNode<T> | null = null;
  size = 0;

  /** Appends `node` at the tail; a node already in the list moves there. */
  push(node: ListNode<T>): void {
    if (node.linked) this.remove(node);
    node.prev = this.tail;
    node.next = null;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    node.linked = true;
    this.size++;
  }

  /** Unlinks `node`; does nothing when it is not in the list. */
  remove(node: ListNode<T>): void {
    if (!node.linked) return;
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = null;
    node.next = null;
    node.linked = false;
    this.size--;
  }
}
