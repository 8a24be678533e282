// XPath needs a W3C DOM; the page is already parsed by cheerio (parse5, as a browser parses it). Instead of
// serialising it and parsing it again into another DOM (linkedom, which was both slow and, on pages with a
// doctype, found nothing), this wraps cheerio's nodes in the few DOM properties the xpath package reads.
//
// Why it is fast: every node knows its place in document order (a number given once, in one walk), so sorting a
// node set is O(n log n) comparisons of numbers. linkedom answered compareDocumentPosition by walking the page and
// the xpath package fell back to scanning siblings, so 20,000 table rows took minutes.
//
// The nodes the expression finds map back to cheerio's own nodes (`.node`), so a following step (`remove:`,
// `css:`) works on the same document.

/** The parts of a domhandler node (cheerio's tree) read here. */
export interface HNode {
  type: string;
  parent: HNode | null;
  children?: HNode[];
  name?: string;
  attribs?: Record<string, string>;
  data?: string;
}

const ELEMENT_TYPES = new Set(['tag', 'script', 'style']);
const TEXT = 3;
const CDATA = 4;
const COMMENT = 8;

/** A wrapped node: what the xpath package reads of a DOM node. */
export abstract class XNode {
  abstract readonly nodeType: number;
  constructor(
    protected readonly dom: XDom,
    /** cheerio's node (for an attribute: its element). */
    readonly node: HNode,
    readonly order: number,
  ) {}
  get ownerDocument(): XNode | null {
    return this.dom.document;
  }
  get firstChild(): XNode | null {
    return null;
  }
  get lastChild(): XNode | null {
    return null;
  }
  get nextSibling(): XNode | null {
    return null;
  }
  get previousSibling(): XNode | null {
    return null;
  }
  get localName(): string | null {
    return null;
  }
  get nodeName(): string {
    return '';
  }
  get nodeValue(): string | null {
    return null;
  }
  readonly namespaceURI: string | null = null;
  readonly prefix: string | null = null;
  /** xpath only tests the 0x02/0x08 (before or containing) and 0x04/0x10 (after or contained) bits. */
  compareDocumentPosition(other: XNode): number {
    if (other === this) return 0;
    return other.order < this.order ? 0x02 : 0x04;
  }
  isSameNode(other: XNode): boolean {
    return other === this;
  }
  lookupNamespaceURI(): string | null {
    return null;
  }
}

/** Element, text, comment and the document itself: nodes with a place among siblings. Links are plain fields,
 * set once while the tree is walked, so reading them costs nothing. */
class XTreeNode extends XNode {
  parentNode: XTreeNode | null = null;
  childNodes: XTreeNode[] = [];
  /** Place among the parent's childNodes. */
  index = 0;
  private attrList: AttributeList | null = null;
  constructor(
    dom: XDom,
    node: HNode,
    order: number,
    readonly nodeType: number,
  ) {
    super(dom, node, order);
  }
  override get firstChild(): XNode | null {
    return this.childNodes[0] ?? null;
  }
  override get lastChild(): XNode | null {
    return this.childNodes[this.childNodes.length - 1] ?? null;
  }
  override get nextSibling(): XNode | null {
    return this.parentNode?.childNodes[this.index + 1] ?? null;
  }
  override get previousSibling(): XNode | null {
    return this.parentNode?.childNodes[this.index - 1] ?? null;
  }
  override get localName(): string | null {
    return this.nodeType === 1 ? this.node.name! : null;
  }
  get tagName(): string {
    return this.node.name ?? '';
  }
  override get nodeName(): string {
    switch (this.nodeType) {
      case 1:
        return this.node.name!;
      case TEXT:
        return '#text';
      case CDATA:
        return '#cdata-section';
      case COMMENT:
        return '#comment';
      default:
        return '#document';
    }
  }
  override get nodeValue(): string | null {
    return this.nodeType === TEXT || this.nodeType === COMMENT ? (this.node.data ?? '') : this.nodeType === CDATA ? cdataText(this.node) : null;
  }
  get data(): string | null {
    return this.nodeValue;
  }
  override get ownerDocument(): XNode | null {
    return this.nodeType === 9 ? null : this.dom.document;
  }
  get attributes(): AttributeList {
    if (!this.attrList) {
      const entries = this.nodeType === 1 ? Object.entries(this.node.attribs ?? {}) : [];
      const list: XAttr[] = entries.map(([name, value], i) => new XAttr(this.dom, this, name, value, this.order + 1 + i));
      this.attrList = Object.assign(list, { item: (i: number) => list[i] ?? null });
    }
    return this.attrList;
  }
  get documentElement(): XNode | null {
    return this.nodeType === 9 ? (this.childNodes.find((c) => c.nodeType === 1) ?? null) : null;
  }
  getAttribute(name: string): string | null {
    return this.node.attribs?.[name.toLowerCase()] ?? null;
  }
  getAttributeNS(ns: string | null, name: string): string | null {
    return ns ? null : this.getAttribute(name);
  }
  getElementById(id: string): XNode | null {
    return this.dom.byId(id);
  }
}

class XAttr extends XNode {
  readonly nodeType = 2;
  readonly parentNode = null;
  readonly childNodes: XNode[] = [];
  constructor(
    dom: XDom,
    readonly ownerElement: XNode,
    readonly name: string,
    readonly value: string,
    order: number,
  ) {
    super(dom, ownerElement.node, order);
  }
  override get localName(): string {
    return this.name;
  }
  override get nodeName(): string {
    return this.name;
  }
  override get nodeValue(): string {
    return this.value;
  }
}

type AttributeList = XAttr[] & { item(i: number): XAttr | null };

function cdataText(node: HNode): string {
  return (node.children ?? []).map((c) => c.data ?? '').join('');
}

/** The selected nodes of a page as one document for XPath: `//td` searches them (and what they contain) only. */
export class XDom {
  readonly document: XTreeNode;
  private readonly elements: XTreeNode[] = [];
  private ids: Map<string, XNode> | null = null;

  constructor(roots: readonly HNode[]) {
    let order = 0;
    this.document = new XTreeNode(this, { type: 'root', parent: null }, order++, 9);
    // One walk in document order, without recursion (a page can nest deeper than the stack).
    const stack: Array<{ parent: XTreeNode; kids: readonly HNode[]; i: number }> = [
      { parent: this.document, kids: roots.flatMap((r) => (r.type === 'root' ? (r.children ?? []) : [r])), i: 0 },
    ];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.i >= top.kids.length) {
        stack.pop();
        continue;
      }
      const n = top.kids[top.i++]!;
      const nodeType = ELEMENT_TYPES.has(n.type) ? 1 : n.type === 'text' ? TEXT : n.type === 'comment' ? COMMENT : n.type === 'cdata' ? CDATA : 0;
      if (!nodeType) continue; // a doctype or processing instruction: not part of XPath's data model here
      const w = new XTreeNode(this, n, order++, nodeType);
      w.parentNode = top.parent;
      w.index = top.parent.childNodes.length;
      top.parent.childNodes.push(w);
      if (nodeType === 1) {
        order += Object.keys(n.attribs ?? {}).length; // attributes come right after their element
        this.elements.push(w);
        if (n.children?.length) stack.push({ parent: w, kids: n.children, i: 0 });
      }
    }
  }

  byId(id: string): XNode | null {
    if (!this.ids) {
      this.ids = new Map();
      for (const w of this.elements) {
        const v = w.node.attribs?.id;
        if (v !== undefined && !this.ids.has(v)) this.ids.set(v, w);
      }
    }
    return this.ids.get(id) ?? null;
  }
}
