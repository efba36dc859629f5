export { Messenger, peerError, type Exchange, type MessengerOptions, type PeerTarget, type SendOpts } from './messenger.js';
export { deterministicUuid } from './ids.js';
export { fetchInstanceDoc, type InstanceDoc } from './instance-doc.js';
export { PeerContacts, type PeerContact } from './contacts.js';
