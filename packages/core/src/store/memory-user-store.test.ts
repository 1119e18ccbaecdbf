import { describeUserStore } from '@gatehouse/testkit'
import { MemoryUserStore } from './memory-user-store.js'

describeUserStore('MemoryUserStore', async () => ({ store: new MemoryUserStore(), close: async () => {} }))
