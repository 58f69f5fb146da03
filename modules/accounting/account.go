// Package accounting is the module for the shop's books: a double-entry ledger in GBP
// pence posted from the other modules' money events (ports.LedgerEvent), reversing
// entries for corrections, and the accountant's views: the dashboard, unpaid orders,
// payments received, the ledger, the trial balance and a monthly summary.
//
// Data of other modules reaches it only through the small interfaces it declares
// (Orders, Payments, Stock), which the composition root implements with their services.
package accounting

// AccountType is the class of an account, which says on which side it normally
// carries its balance.
type AccountType string

// The account types of the chart.
const (
	Asset     AccountType = "asset"
	Liability AccountType = "liability"
	Income    AccountType = "income"
	Expense   AccountType = "expense"
)

// DebitNormal reports whether accounts of type t normally carry a debit balance.
func (t AccountType) DebitNormal() bool { return t == Asset || t == Expense }

// Account is one account of the chart.
type Account struct {
	Code        string      `db:"code"`
	Name        string      `db:"name"`
	Type        AccountType `db:"type"`
	Description string      `db:"description"`
	Position    int         `db:"position"`
}

// The codes of the accounts in the chart.
const (
	// AccWallet is the BTCPay wallet: bitcoin valued in GBP at each payment's rate.
	AccWallet = "1010"
	// AccOutside holds payments staff marked as made outside BTCPay (no bitcoin moved).
	AccOutside = "1020"
	// AccOverpayments holds what customers paid beyond their orders' totals.
	AccOverpayments = "2010"
	// AccRefundsPayable holds the totals of paid orders that were cancelled.
	AccRefundsPayable = "2020"
	// AccPostagePayable is the shop's Royal Mail Click & Drop account.
	AccPostagePayable = "2030"
	// AccSales is goods sold.
	AccSales = "4010"
	// AccShipping is shipping charged to customers.
	AccShipping = "4020"
	// AccRefunds is money given back beyond what was owed (contra-income).
	AccRefunds = "4090"
	// AccPostage is the cost of shipping labels.
	AccPostage = "5010"
	// AccFX is the GBP value received beyond or short of an order's total.
	AccFX = "5090"
)

// Chart is the chart of accounts, in the order of the books. Migration
// 000013_accounting inserts the same rows.
var Chart = []Account{
	{AccWallet, "BTCPay wallet", Asset, "Bitcoin held in the shop's BTCPay wallet, valued in GBP at the rate of each payment.", 1},
	{AccOutside, "Payments outside BTCPay", Asset, "Orders staff marked as paid by other means: no bitcoin reached the wallet.", 2},
	{AccOverpayments, "Customer overpayments", Liability, "Paid beyond an order's total: owed back to the customer until refunded.", 3},
	{AccRefundsPayable, "Refunds payable", Liability, "Paid orders that were cancelled: owed back to the customer until refunded.", 4},
	{AccPostagePayable, "Postage payable (Royal Mail)", Liability, "Labels bought on the shop's Royal Mail Click & Drop account.", 5},
	{AccSales, "Sales", Income, "Goods sold: the subtotal of paid orders.", 6},
	{AccShipping, "Shipping income", Income, "Shipping charged on paid orders.", 7},
	{AccRefunds, "Refunds", Income, "Money given back beyond what was owed (contra-income).", 8},
	{AccPostage, "Postage expense", Expense, "The cost of shipping labels.", 9},
	{AccFX, "Rounding/FX differences", Expense, "The GBP value received beyond or short of an order's total.", 10},
}

// AccountByCode returns the account with code, and whether there is one.
func AccountByCode(code string) (Account, bool) {
	for _, a := range Chart {
		if a.Code == code {
			return a, true
		}
	}
	return Account{}, false
}

// AccountName is the account's name, or the code itself for an unknown code.
func AccountName(code string) string {
	if a, ok := AccountByCode(code); ok {
		return a.Name
	}
	return code
}
